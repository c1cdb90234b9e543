using Akka.Actor;
using Akka.TestKit;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Evaluation;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Actors;

/// <summary>An evaluator between a breeder and a steward (both probes), with a fake fitness the spec controls.</summary>
public sealed class EvaluatorSpecs : EvolverSpec
{
    private static readonly LedgerView Version0 = new(0, ["m0", "m1", "m2"], [0.5, 0.5, 0.5], 0.5, false);
    private readonly TestProbe _steward;
    private readonly TestProbe _breeder;
    private readonly List<WeightLease> _offspring = [];

    public EvaluatorSpecs(ITestOutputHelper output)
        : base(output)
    {
        _steward = Probe("steward");
        _breeder = Probe("breeder");
        // The evaluator tells the breeder it may let go of each child it has scored; these specs are about the rest.
        _breeder.IgnoreMessages<OffspringTaken>();
    }

    /// <summary>A population fitness that scores a child by the mean of its bias, or throws when told to; it records its syncs.</summary>
    private sealed class FakeFitness : IPopulationFitness
    {
        public Func<int, WeightSet, double> Score { get; set; } = (_, child) => BiasMean(child);
        public Func<double> Population { get; set; } = () => 0.5;
        public List<(long Version, string[] Ids)> Syncs { get; } = [];
        public string Mode => PopulationFitness.Merged;
        public long Version { get; private set; } = -1;

        public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey>? members = null)
        {
            Syncs.Add((version, [.. slots.Select(s => s.Id)]));
            Version = version;
        }

        public double ScoreCandidate(int slot, WeightSet child) => Score(slot, child);
        public double ScorePopulation() => Population();
        public IReadOnlyList<double> ScoreMembers() => [0.5, 0.5, 0.5];

        /// <summary>The guard split's score of a candidate (dev's is <see cref="Score"/>).</summary>
        public Func<int, WeightSet, double> Guard { get; set; } = (_, _) => 0.5;

        public IReadOnlyList<double> ScoreCandidate(int slot, WeightSet child, IReadOnlyList<string> splits) =>
            [.. splits.Select(split => split == PopulationFitness.GuardSplit ? Guard(slot, child) : Score(slot, child))];

        public IReadOnlyList<double> ScorePopulation(IReadOnlyList<string> splits) => [.. splits.Select(_ => Population())];

        public IReadOnlyList<double> ScoreMembers(string split) => ScoreMembers();
        public IReadOnlyCollection<string> Splits { get; } = ["dev"];
        public double Report(WeightSet weights, string split) => throw new NotSupportedException("not in these specs");
        public WeightSet Fused() => throw new NotSupportedException("not in these specs");
        public void Dispose()
        {
        }
    }

    private (IActorRef Evaluator, FakeFitness Fitness) StartEvaluator(FakeFitness fitness, RunSettings? settings = null, bool workerNode = false)
    {
        Install(settings ?? Settings(), fitness: _ => fitness, workerNode: workerNode);
        var evaluator = Sys.ActorOf(Props.Create(() => new EvaluatorActor("e0", CPU, _steward.Ref, _breeder.Ref)), "evaluator");
        _steward.ExpectMsg<RegisterEvaluator>(r => r.Evaluator.Equals(evaluator) && r.Name == "e0", Wait, "the evaluator registers with the steward");
        _breeder.ExpectMsg<RequestWork>(r => r.Evaluator.Equals(evaluator), Wait, "the evaluator asks the breeder for work at start");
        evaluator.Tell(new LedgerChanged(Version0));
        return (evaluator, fitness);
    }

    /// <summary>Builds an offspring as a breeder would: resident under its id, the spec holding the breeder's lease.</summary>
    private OffspringInfo Bred(string id, int target, float value)
    {
        _offspring.Add(Resident.Register(id, Tiny(value)));
        return Offspring(id, target);
    }

    [Fact]
    public void Evaluator_scores_against_the_population_an_offspring_was_bred_from_and_re_scores_against_a_newer_one()
    {
        var (evaluator, fitness) = StartEvaluator(new FakeFitness());
        var child = Bred("o-1", 1, 4);
        evaluator.Tell(new EvaluateOffspring(child), _breeder.Ref);

        var scored = _steward.ExpectMsg<OffspringScored>(Wait, "o-1 scored");
        AssertSameOffspring(child, scored.Offspring);
        Assert.Equal((4.0, 0L, "e0"), (scored.Score, scored.ScoredAtVersion, scored.Evaluator));
        Assert.Equal(evaluator, scored.EvaluatorRef);
        Assert.Equal(["m0", "m1", "m2"], Assert.Single(fitness.Syncs).Ids);
        _breeder.ExpectMsg<RequestWork>(Wait, "the evaluator pulls the next offspring without waiting for the decision");

        // Asked to re-score against a newer population, it syncs to that population first.
        var version1 = new LedgerView(1, ["m0", "m1", "m0"], [0.6, 0.6, 0.6], 0.6, false);
        evaluator.Tell(new RescoreOffspring("o-1", version1));
        var rescored = _steward.ExpectMsg<OffspringScored>(Wait, "o-1 re-scored against version 1");
        Assert.Equal(1, rescored.ScoredAtVersion);
        Assert.Equal(scored.ContentHash, rescored.ContentHash);
        Assert.Equal(1L, fitness.Syncs[^1].Version);
        Assert.Equal(["m0", "m1", "m0"], fitness.Syncs[^1].Ids);
        Assert.False(Store.Contains("o-1"), "an evaluator writes no weight files: the journal keeps recipes");

        // The evaluator holds no lease on a child it has scored (only the breeder's stand-in here); a re-score obtained it anew.
        AwaitCondition(() => Resident.LeaseCount("o-1") == 1, Wait, "the evaluator holds no lease on o-1 after scoring it");
        evaluator.Tell(new OffspringDecided("o-1", 0, true, version1));
    }

    [Fact]
    public void Evaluator_reports_a_failing_score_to_the_breeder_and_keeps_pulling_work()
    {
        var (evaluator, fitness) = StartEvaluator(new FakeFitness());
        fitness.Score = (slot, _) => slot == 0 ? throw new InvalidOperationException("device fault") : 0.75;

        var failing = Bred("o-1", 0, 1);
        evaluator.Tell(new EvaluateOffspring(failing), _breeder.Ref);
        var failed = _breeder.ExpectMsg<OffspringFailed>(Wait, "o-1's score threw: the breeder hears of it");
        AssertSameOffspring(failing, failed.Offspring);
        Assert.Contains("device fault", failed.Reason, StringComparison.Ordinal);
        _breeder.ExpectMsg<RequestWork>(Wait, "after a failure the evaluator asks for more work");
        Assert.Equal(1, Resident.LeaseCount("o-1")); // the evaluator holds no lease on a failed offspring

        var fine = Bred("o-2", 1, 2);
        evaluator.Tell(new EvaluateOffspring(fine), _breeder.Ref);
        var scored = _steward.ExpectMsg<OffspringScored>(Wait, "the next offspring is scored as usual");
        Assert.Equal(("o-2", 0.75), (scored.Offspring.Id, scored.Score));
        _breeder.ExpectMsg<RequestWork>(Wait, "and the evaluator asks again");
    }

    [Fact]
    public void Evaluator_reports_an_offspring_it_cannot_load_as_failed()
    {
        var (evaluator, _) = StartEvaluator(new FakeFitness());
        evaluator.Tell(new EvaluateOffspring(Offspring("o-gone", 2)), _breeder.Ref);
        var failed = _breeder.ExpectMsg<OffspringFailed>(Wait, "an offspring that is neither resident nor stored");
        Assert.Equal("o-gone", failed.Offspring.Id);
        _breeder.ExpectMsg<RequestWork>(Wait, "after the failure the evaluator asks for more work");
        _steward.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void On_a_worker_node_the_evaluator_builds_an_offspring_from_the_recipe_in_the_work_item_and_learns_accepted_recipes()
    {
        var (evaluator, _) = StartEvaluator(new FakeFitness(), workerNode: true);
        // Bred on the coordinator: this node has neither its weights nor its recipe, only the work item's.
        var child = Offspring("o-remote", 2);
        evaluator.Tell(new EvaluateOffspring(child), _breeder.Ref);
        var scored = _steward.ExpectMsg<OffspringScored>(Wait, "the child rebuilt from its recipe is scored");
        Assert.Equal("o-remote", scored.Offspring.Id);
        Assert.True(Book.TryGet("o-remote", out var recipe, out _));
        Assert.Equal(child.Recipe.Seed, recipe.Seed);

        // Accepted, it is a member the next population names: the steward's broadcast carries its recipe and hash.
        var accepted = new KnownRecipe("o-remote", child.Recipe, scored.ContentHash);
        var version1 = new LedgerView(1, ["m0", "m1", "o-remote"], [0, 0, 1], null, false, Decided: 1);
        evaluator.Tell(new LedgerChanged(version1, [accepted]));
        Book.Remove("o-remote");
        evaluator.Tell(new LedgerChanged(version1, [accepted]));
        AwaitCondition(() => Book.TryGet("o-remote", out _, out var hash) && hash == scored.ContentHash, Wait, "the recipe learned from the broadcast");
    }

    [Fact]
    public void Evaluator_retires_after_failing_the_configured_scores_in_a_row_and_names_its_last_error()
    {
        var (evaluator, fitness) = StartEvaluator(new FakeFitness(), Settings() with { MaxConsecutiveFailures = 3 });
        var calls = 0;
        fitness.Score = (slot, _) => slot == 1 ? 0.75 : throw new InvalidOperationException($"device fault {++calls}\nframe #0: a C++ backtrace");
        Watch(evaluator);

        // Two failures, then a success: the count starts again.
        foreach (var (id, slot) in new[] { ("o-1", 0), ("o-2", 2), ("o-3", 1) })
        {
            evaluator.Tell(new EvaluateOffspring(Bred(id, slot, 1)), _breeder.Ref);
            _breeder.FishForMessage<RequestWork>(_ => true, Wait, $"{id}: the evaluator goes on pulling work");
        }
        _steward.ExpectMsg<OffspringScored>(m => m.Offspring.Id == "o-3", Wait, "o-3 is scored");

        // Three failures in a row retire it: the steward and the breeder hear why, and it stops.
        foreach (var id in new[] { "o-4", "o-5", "o-6" })
        {
            evaluator.Tell(new EvaluateOffspring(Bred(id, 0, 1)), _breeder.Ref);
        }
        var reason = "evaluator 'e0' retired after 3 consecutive failures: device fault 5";
        var retired = _steward.ExpectMsg<EvaluatorRetired>(Wait, "the third failure in a row retires the evaluator");
        Assert.Equal((evaluator, "e0", reason), (retired.Evaluator, retired.Name, retired.Reason));
        var failed = _breeder.FishForMessage<OffspringFailed>(m => m.Offspring.Id == "o-6", Wait, "o-6's failure reaches the breeder");
        Assert.Equal("e0: device fault 5", failed.Reason); // one line, no backtrace
        Assert.Equal(reason, _breeder.ExpectMsg<EvaluatorRetired>(Wait, "the breeder hears of the retirement").Reason);
        ExpectTerminated(evaluator, Wait, "a retired evaluator stops");
    }

    [Fact]
    public void Evaluator_reports_a_failed_initial_scoring_to_the_steward_and_stays_up()
    {
        var (evaluator, fitness) = StartEvaluator(new FakeFitness());
        fitness.Population = () => throw new InvalidOperationException("meta tensors have no data");
        evaluator.Tell(new ScorePopulation(0), _steward.Ref);

        var failed = _steward.ExpectMsg<PopulationScoreFailed>(Wait, "the initial scoring threw");
        Assert.Equal((0L, "e0", evaluator, "e0: meta tensors have no data"), (failed.Version, failed.Evaluator, failed.EvaluatorRef, failed.Reason));
        _steward.ExpectNoMsg(Quiet); // not restarted (a restart would register it again)

        fitness.Population = () => 0.6;
        evaluator.Tell(new ScorePopulation(0), _steward.Ref);
        Assert.Equal(0.6, _steward.ExpectMsg<PopulationScored>(Wait, "asked again, it scores").PopulationScore);
    }

    [Fact]
    public void Evaluator_whose_fitness_cannot_be_built_registers_and_retires_at_once()
    {
        Install(Settings(), fitness: _ => throw new InvalidOperationException("CUDA out of memory"));
        var evaluator = Sys.ActorOf(Props.Create(() => new EvaluatorActor("e0", CPU, _steward.Ref, _breeder.Ref)), "evaluator");
        Watch(evaluator);
        _steward.ExpectMsg<RegisterEvaluator>(Wait, "the evaluator registers, so the steward does not wait for it");
        var retired = _steward.ExpectMsg<EvaluatorRetired>(Wait, "and retires");
        Assert.Equal("evaluator 'e0' could not start: CUDA out of memory", retired.Reason);
        _breeder.ExpectMsg<EvaluatorRetired>(Wait, "the breeder hears of it too");
        ExpectTerminated(evaluator, Wait, "an evaluator that could not start stops");
        _breeder.ExpectNoMsg(Quiet); // it never asked for work
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _offspring.ForEach(l => l.Dispose());
        }
    }
}
