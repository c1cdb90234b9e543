using Akka.Actor;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>The breeder's protocol as a pure state machine: what is issued when, from which population, and re-issues.</summary>
public sealed class BreederMachineTests
{
    private static LedgerView View(long decided) => new(decided / 4, ["a", "b", "c", "d"], [0.1, 0.2, 0.3, 0.4], null, false, decided);

    private static OffspringInfo Built(BuildOffspring b) =>
        new($"o-{b.Sequence}", new Recipe(Recipe.CurrentFormat, b.Sequence, 0, "a", [1], ["b"], "evolver", 0.5, 0.5, "binomial", false,
            "element", null, "raw", 1), b.From);

    /// <summary>Performs build effects at once (as the actor does) and returns every effect, builds included.</summary>
    private static List<BreederEffect> Run(BreederMachine machine, IEnumerable<BreederEffect> effects)
    {
        var all = new List<BreederEffect>();
        var pending = new Queue<BreederEffect>(effects);
        while (pending.TryDequeue(out var effect))
        {
            all.Add(effect);
            if (effect is BuildOffspring b)
            {
                foreach (var next in machine.Built(Built(b)))
                {
                    pending.Enqueue(next);
                }
            }
        }
        return all;
    }

    [Theory]
    [InlineData(Schedule.SteadyState)]
    [InlineData(Schedule.Generational)]
    public void Offspring_n_is_bred_from_the_population_after_its_base_decision_and_no_id_is_issued_twice(Schedule schedule)
    {
        var settings = new RunSettings { Task = "spec", Schedule = schedule, Lag = 3, QueueCapacity = 2 };
        var machine = new BreederMachine(settings, slots: 4);
        var evaluator = ActorRefs.Nobody;
        var effects = Run(machine, machine.Start(new BreedFrom(0, 40, [View(0)])));
        var issued = new List<BuildOffspring>();
        for (var decided = 0; decided < 40; decided++)
        {
            effects.AddRange(Run(machine, machine.RequestWork(evaluator)));
            issued.AddRange(effects.OfType<BuildOffspring>());
            var sent = effects.OfType<SendOffspring>().ToList();
            effects.Clear();
            // The steward decides in order; decision `decided` makes population `decided + 1` known.
            effects.AddRange(Run(machine, machine.OnDecided(new OffspringDecided($"o-{decided}", decided, false, View(decided + 1)))));
            Assert.True(machine.NextSequence - decided <= Math.Max(settings.Lag, 4) + 1, "issuing never runs ahead of the lag or the generation");
        }
        issued.AddRange(effects.OfType<BuildOffspring>());
        Assert.Equal(issued.Select(b => b.Sequence).Distinct().Count(), issued.Count);
        Assert.Equal(Enumerable.Range(0, issued.Count).Select(i => (long)i), issued.Select(b => b.Sequence));
        Assert.All(issued, b => Assert.Equal(settings.BreedBase(b.Sequence, 4), b.From.Decided));
        Assert.True(issued.Count >= 40, $"issued {issued.Count}");
        Assert.True(issued.Max(b => b.Sequence) < 40, "nothing is issued past the budget");
    }

    [Fact]
    public void A_gone_evaluator_s_work_is_re_issued_first_in_sequence_order_and_a_failure_is_retried_then_given_up()
    {
        var settings = new RunSettings { Task = "spec", Lag = 8, QueueCapacity = 3, MaxRetries = 2 };
        var machine = new BreederMachine(settings, slots: 4);
        var first = new FakeRef("e0");
        var second = new FakeRef("e1");
        Run(machine, machine.Start(new BreedFrom(0, 100, [View(0)])));
        var sent = Run(machine, machine.RequestWork(first)).Concat(Run(machine, machine.RequestWork(first))).OfType<SendOffspring>().ToList();
        Assert.Equal([0L, 1], sent.Select(s => s.Offspring.Sequence));
        Run(machine, machine.EvaluatorGone(first, out var reissued));
        Assert.Equal(2, reissued);
        var resent = Run(machine, machine.RequestWork(second)).OfType<SendOffspring>().Single();
        Assert.Equal(0, resent.Offspring.Sequence);

        var failed = Run(machine, machine.OnFailed(resent.Offspring, "boom"));
        Assert.Empty(failed.OfType<GiveUp>());
        var retry = Run(machine, machine.RequestWork(second)).OfType<SendOffspring>().Single();
        Assert.Equal((0L, 1), (retry.Offspring.Sequence, retry.Offspring.Attempt));
        var givenUp = Run(machine, machine.OnFailed(retry.Offspring, "boom again"));
        Assert.Equal(0, Assert.Single(givenUp.OfType<GiveUp>()).Offspring.Sequence);
    }

    /// <summary>A stand-in actor ref with a name (the machine only compares refs).</summary>
    private sealed class FakeRef(string name) : MinimalActorRef
    {
        public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "spec")) / name;

        public override IActorRefProvider Provider => throw new NotSupportedException();
    }

    [Fact]
    public void A_paused_breeder_hands_out_nothing_and_serves_the_waiting_evaluators_when_resumed()
    {
        var settings = new RunSettings { Task = "spec", Lag = 8, QueueCapacity = 3 };
        var machine = new BreederMachine(settings, slots: 4);
        var evaluator = new FakeRef("e0");
        Run(machine, machine.Start(new BreedFrom(0, 100, [View(0)])));
        Assert.Empty(Run(machine, machine.Pause(true)));
        Assert.Empty(Run(machine, machine.RequestWork(evaluator)).OfType<SendOffspring>());
        Assert.True(machine.Ready > 0, "breeding goes on while paused; only handing out stops");
        var resumed = Run(machine, machine.Pause(false)).OfType<SendOffspring>().Single();
        Assert.Equal((evaluator, 0L), ((FakeRef)resumed.Evaluator, resumed.Offspring.Sequence));
    }

    [Fact]
    public void A_coefficient_search_issues_a_generation_once_the_one_before_is_decided_with_every_score_so_far()
    {
        var settings = new RunSettings { Task = "spec", Lag = 32, QueueCapacity = 2 };
        var machine = new BreederMachine(settings, slots: 4, searchGeneration: 3);
        var evaluator = ActorRefs.Nobody;
        var builds = Run(machine, machine.Start(new BreedFrom(0, 100, [View(0)]))).OfType<BuildOffspring>().ToList();
        Assert.Equal([0L, 1, 2], builds.Select(b => b.Sequence)); // the whole first generation, and no more
        Assert.All(builds, b => Assert.Empty(b.SearchScores!));
        for (var n = 0; n < 3; n++)
        {
            Run(machine, machine.RequestWork(evaluator));
        }
        var next = new List<BuildOffspring>();
        for (var n = 0; n < 3; n++)
        {
            next.AddRange(Run(machine, machine.OnDecided(new OffspringDecided($"o-{n}", n, n == 1, View(n + 1), Score: n == 2 ? null : 0.1 * n))).OfType<BuildOffspring>());
            Assert.True(n == 2 || next.Count == 0, "nothing of the next generation before its predecessor is decided");
        }
        Assert.Equal([3L, 4, 5], next.Select(b => b.Sequence));
        Assert.All(next, b => Assert.Equal([0.0, 0.1, null], b.SearchScores!));

        // A resumed breeder starts from the scores the journal holds.
        var resumed = new BreederMachine(settings, slots: 4, searchGeneration: 3);
        var again = Run(resumed, resumed.Start(new BreedFrom(3, 100, [View(3)], [0.0, 0.1, null]))).OfType<BuildOffspring>().ToList();
        Assert.Equal(next.Select(b => (b.Sequence, string.Join(',', b.SearchScores!))), again.Select(b => (b.Sequence, string.Join(',', b.SearchScores!))));
    }
}
