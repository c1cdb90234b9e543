using Akka.Actor;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// The steward's protocol as a pure state machine, driven without actors or TestKit: scores arrive in random orders,
/// with re-issued copies and failures, and the invariants of docs/architecture.md §2–3 hold for every order.
/// </summary>
public sealed class StewardMachineTests
{
    private static readonly RunSettings Settings = new() { Task = "spec", Mode = FitnessMode.Merged, MaxEvaluations = 1000 };

    private static OffspringInfo Offspring(long sequence, int target = 0) =>
        new($"o-{sequence}", new Recipe(Recipe.CurrentFormat, sequence, target, "m0", [1], ["m1"], "evolver", 0.5, 0.5, "binomial", false,
            "element", null, "raw", (ulong)sequence), new LedgerView(0, ["m0", "m1", "m2"], [0, 0, 0], 0.5, false));

    private static StewardMachine Initialized(RunSettings settings)
    {
        var machine = new StewardMachine(settings);
        machine.Apply(new RunInitialized(["m0", "m1", "m2"], [0.5, 0.5, 0.5], 0.5, 1, DateTime.UnixEpoch));
        return machine;
    }

    /// <summary>
    /// Stores and applies every step's event, as the actor does, and drains again (the actor sends itself CheckBudget
    /// after each stored batch) until nothing more is due; returns the steps.
    /// </summary>
    private static List<StewardStep> DrainAll(StewardMachine machine)
    {
        var all = new List<StewardStep>();
        while (true)
        {
            var steps = machine.Drain(DateTime.UnixEpoch).ToList();
            all.AddRange(steps);
            foreach (var step in steps.Where(s => s.Event is not null))
            {
                machine.Apply(step.Event!);
            }
            if (steps.All(s => s.Event is null))
            {
                return all;
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Whatever_order_scores_arrive_in_decisions_follow_issue_order_and_every_adoption_has_its_stored_event(int seed)
    {
        var rng = new Random(seed);
        var machine = Initialized(Settings);
        const int count = 60;
        var scores = Enumerable.Range(0, count).Select(_ => rng.NextDouble()).ToArray();
        var arrivals = Enumerable.Range(0, count).OrderBy(_ => rng.Next()).ToList();
        var steps = new List<StewardStep>();
        foreach (var n in arrivals)
        {
            // In merged mode a stale score asks for a re-score: the evaluator answers at the current version.
            Assert.Empty(machine.Offer(new OffspringScored(Offspring(n), scores[n], 0, $"h{n}", "e0", ActorRefs.Nobody)));
            var drained = DrainAll(machine);
            steps.AddRange(drained);
            while (drained.SelectMany(s => s.Effects).OfType<AskRescore>().FirstOrDefault() is { } rescore)
            {
                Assert.Empty(machine.Offer(new OffspringScored(rescore.Offspring, scores[rescore.Offspring.Sequence] * 0.99, rescore.Population.Version,
                    $"h{rescore.Offspring.Sequence}", "e0", ActorRefs.Nobody)));
                drained = DrainAll(machine);
                steps.AddRange(drained);
            }
        }
        var decided = steps.Where(s => s.Event is not null).Select(s => s.Event switch
        {
            RecipeAccepted a => a.Recipe.Sequence,
            RecipeRejected r => r.Sequence,
            _ => throw new InvalidOperationException("unexpected event"),
        }).ToList();
        Assert.True(Enumerable.Range(0, count).Select(i => (long)i).SequenceEqual(decided), $"decided in order {string.Join(",", decided)}"); // each once, in issue order
        Assert.Equal(count, machine.Ledger.NextSequence);
        Assert.Equal(count + 1, machine.Ledger.Evaluations);
        foreach (var step in steps)
        {
            // Nothing is adopted without the stored acceptance of that very offspring, and every decision names its offspring.
            foreach (var adopt in step.Effects.OfType<Adopt>())
            {
                Assert.Same(step.Event, adopt.Accepted);
            }
            foreach (var notify in step.Effects.OfType<NotifyDecided>())
            {
                var sequence = step.Event switch { RecipeAccepted a => a.Recipe.Sequence, RecipeRejected r => r.Sequence, _ => -1 };
                Assert.Equal(notify.Offspring.Sequence, sequence);
                Assert.Equal(step.Event is RecipeAccepted, notify.Accepted);
            }
        }
        // S only ever rose, and each acceptance beat the S before it.
        var accepted = steps.Select(s => s.Event).OfType<RecipeAccepted>().ToList();
        Assert.All(accepted, a => Assert.True(a.Score > a.PreviousScore));
        Assert.Equal(accepted.Count, machine.Ledger.Version);
    }

    [Fact]
    public void A_copy_of_an_offspring_decided_already_is_released_without_a_decision()
    {
        var machine = Initialized(Settings);
        machine.Offer(new OffspringScored(Offspring(0), 0.1, 0, "h", "e0", ActorRefs.Nobody));
        Assert.Single(DrainAll(machine));
        var effects = machine.Offer(new OffspringScored(Offspring(0), 0.9, 0, "h", "e1", ActorRefs.Nobody));
        Assert.IsType<ReleaseCopy>(Assert.Single(effects));
        Assert.Empty(machine.Drain(DateTime.UnixEpoch));
        Assert.Equal(0, machine.Ledger.Accepted);
    }

    [Fact]
    public void Failures_are_decided_in_their_turn_and_count_toward_the_budget()
    {
        var machine = Initialized(Settings with { MaxEvaluations = 3 });
        machine.Offer(new OffspringLost(Offspring(1), "device fault"));
        Assert.Empty(DrainAll(machine)); // sequence 0 first
        machine.Offer(new OffspringScored(Offspring(0), 0.1, 0, "h", "e0", ActorRefs.Nobody));
        var steps = DrainAll(machine);
        Assert.Equal([typeof(RecipeRejected), typeof(RecipeFailed)], steps.Select(s => s.Event!.GetType()));
        Assert.Equal((3L, 1L, 1L), (machine.Ledger.Evaluations, machine.Ledger.Failed, machine.Ledger.Rejected));
        Assert.Contains("max-evaluations", machine.Ledger.StopReason(Settings with { MaxEvaluations = 3 }, TimeSpan.Zero), StringComparison.Ordinal);
        // Past the budget nothing more is decided.
        machine.Offer(new OffspringScored(Offspring(2), 0.9, 0, "h", "e0", ActorRefs.Nobody));
        Assert.Empty(machine.Drain(DateTime.UnixEpoch));
    }

    [Fact]
    public void Decisions_wait_for_a_re_score_and_a_stopping_run_abandons_what_waits()
    {
        var machine = Initialized(Settings);
        machine.Offer(new OffspringScored(Offspring(0), 0.9, 0, "h0", "e0", ActorRefs.Nobody));
        Assert.IsType<RecipeAccepted>(Assert.Single(DrainAll(machine)).Event);
        // Bred at version 0, better than the new S: re-scored; the next offspring waits meanwhile.
        machine.Offer(new OffspringScored(Offspring(1), 0.95, 0, "h1", "e0", ActorRefs.Nobody));
        machine.Offer(new OffspringScored(Offspring(2), 0.1, 1, "h2", "e0", ActorRefs.Nobody));
        var step = Assert.Single(DrainAll(machine));
        Assert.Null(step.Event);
        Assert.Equal(1, Assert.IsType<AskRescore>(Assert.Single(step.Effects)).Population.Version);
        Assert.Equal(1, machine.Rescoring);
        Assert.Empty(machine.Drain(DateTime.UnixEpoch));
        machine.Stopping = true;
        var abandoned = machine.AbandonWaiting();
        Assert.All(abandoned, e => Assert.False(Assert.IsType<NotifyDecided>(e).Decided));
        Assert.Equal(0, machine.Waiting);
    }

    [Fact]
    public void Complete_population_snapshots_let_the_ledger_forget_recipes_no_rebuild_needs()
    {
        var machine = Initialized(Settings);
        machine.Ledger.ViewWindow = 2;
        for (var n = 0; n < 30; n++)
        {
            // Every offspring beats S and targets slot n % 3; its id is recorded with its recipe.
            machine.Offer(new OffspringScored(Offspring(n, n % 3) with { BredFrom = machine.Ledger.View() }, 0.6 + (n * 0.01), machine.Ledger.Version, "h", "e0", ActorRefs.Nobody));
            DrainAll(machine);
        }
        Assert.Equal(30, machine.Ledger.Recipes.Count);
        machine.Apply(new PopulationSnapshotted(10, 10, DateTime.UnixEpoch));
        machine.Apply(new PopulationSnapshotted(20, 20, DateTime.UnixEpoch));
        Assert.Equal(20, machine.Ledger.Recipes.Count(r => r.Value.Recipe.Sequence >= 10)); // horizon: the older kept snapshot, 10
        machine.Apply(new PopulationSnapshotted(30, 30, DateTime.UnixEpoch));
        // Kept: everything since decision 20, and the ids the recent populations still hold.
        var pinned = machine.Ledger.PinnedIds();
        Assert.All(machine.Ledger.Recipes, r => Assert.True(r.Value.Recipe.Sequence >= 20 || pinned.Contains(r.Key)));
        Assert.Equal(10, machine.Ledger.Recipes.Count(r => r.Value.Recipe.Sequence >= 20));
        Assert.True(machine.Ledger.Recipes.Count < 30);
        Assert.All(machine.Ledger.SlotWeights, id => Assert.True(machine.Ledger.Recipes.ContainsKey(id)));
    }

    [Fact]
    public void The_ledger_keeps_the_recent_populations_breeders_breed_from()
    {
        var machine = Initialized(Settings);
        machine.Ledger.ViewWindow = 4;
        for (var n = 0; n < 10; n++)
        {
            machine.Offer(new OffspringScored(Offspring(n), 0.1, 0, "h", "e0", ActorRefs.Nobody));
            DrainAll(machine);
        }
        Assert.Equal([7L, 8, 9, 10], machine.Ledger.Views.Select(v => v.Decided));
        Assert.Equal(10, machine.Ledger.View().Decided);
    }
}
