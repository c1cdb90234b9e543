using Akka.Actor;
using Akka.TestKit;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// What the steward specs share: a steward driven with probes standing in for the members' shard region, an
/// evaluator and a breeder, and the steps of its protocol (start, acceptance in write-ahead order, rejection).
/// </summary>
public abstract class StewardSpecBase : EvolverSpec
{
    protected StewardSpecBase(ITestOutputHelper output, string? hocon = null)
        : base(output, hocon)
    {
        Members = Probe("members");
        Evaluator = Probe("evaluator");
        Breeder = Probe("breeder");
    }

    /// <summary>Stands in for the members' shard region.</summary>
    protected TestProbe Members { get; }

    protected TestProbe Evaluator { get; }

    protected TestProbe Breeder { get; }

    protected IActorRef StartSteward() => Sys.ActorOf(Props.Create(() => new StewardActor(Members.Ref)), "steward");

    /// <summary>Plays the members: acknowledges the AdoptWeights the steward sends each slot at start (or after recovery).</summary>
    protected List<AdoptWeights> AcknowledgeAdoptions(string phase)
    {
        var adopted = new List<AdoptWeights>();
        for (var i = 0; i < Runtime.Slots; i++)
        {
            var adopt = Members.ExpectMsg<AdoptWeights>(Wait, $"{phase}: AdoptWeights for the {i + 1}th of {Runtime.Slots} slots");
            adopted.Add(adopt);
            Members.Reply(new WeightsAdoptedAck(adopt.Slot, adopt.WeightsId, adopt.Version));
        }
        return [.. adopted.OrderBy(a => a.Slot)];
    }

    /// <summary>A fresh run to version 0: members adopt the initial weights, the evaluator scores S (merged) or each slot.</summary>
    protected IActorRef InitializedSteward(RunSettings settings, double populationScore = 0.5, double[]? slotScores = null)
    {
        Install(settings);
        var steward = StartSteward();
        var adopted = AcknowledgeAdoptions("start");
        Assert.Equal(["m0", "m1", "m2"], adopted.Select(a => a.WeightsId));

        steward.Tell(new RegisterBreeder(Breeder.Ref));
        steward.Tell(new RegisterEvaluator(Evaluator.Ref, "e0"));
        Evaluator.ExpectMsg<LedgerChanged>(m => m.Ledger.Version == 0, Wait, "start: the first evaluator gets the version-0 ledger");
        Evaluator.ExpectMsg(new ScorePopulation(0), Wait, "start: the first evaluator is asked for the initial scores");
        var merged = settings.Mode == FitnessMode.Merged;
        Evaluator.Reply(new PopulationScored(0, slotScores ?? [populationScore, populationScore, populationScore],
            merged ? populationScore : null, "e0"));
        Breeder.ExpectMsg<LedgerChanged>(m => m.Ledger.Version == 0, Wait, "start: the breeder gets the initialised ledger");
        Breeder.ExpectMsg<BreedFrom>(m => m.NextSequence == 0, Wait, "start: the breeder is told where to start issuing");
        Evaluator.ExpectMsg<LedgerChanged>(m => m.Ledger.Version == 0, Wait, "start: the evaluator gets the initialised ledger");
        return steward;
    }

    protected RunProgress Progress(IActorRef steward, string phase)
    {
        steward.Tell(GetRunProgress.Instance, TestActor);
        return ExpectMsg<RunProgress>(Wait, $"{phase}: the steward's progress");
    }

    /// <summary>Scores, accepts and adopts one offspring; returns the new version.</summary>
    protected long Accept(IActorRef steward, string id, int target, double score, long version, long sequence = 0)
    {
        steward.Tell(new OffspringScored(Offspring(id, target, version, sequence), score, version, "hash", "e0", Evaluator.Ref));
        var adopt = Members.ExpectMsg<AdoptWeights>(Wait, $"accepting {id}: slot {target} is told to adopt it");
        AssertAdopt(target, id, version + 1, adopt);
        Members.Reply(new WeightsAdoptedAck(target, id, version + 1));
        // The new ledger is broadcast first, then the decision.
        Evaluator.ExpectMsg<LedgerChanged>(m => m.Ledger.Version == version + 1, Wait, $"accepting {id}: the evaluator gets version {version + 1}");
        Evaluator.ExpectMsg<OffspringDecided>(d => d.OffspringId == id && d.Accepted && d.Ledger.Version == version + 1, Wait,
            $"accepting {id}: the evaluator hears it was accepted");
        return version + 1;
    }

    protected void ExpectRejected(string id, string phase)
    {
        var decided = Evaluator.FishForMessage<OffspringDecided>(d => d.OffspringId == id, Wait, $"{phase}: the decision on {id}");
        Assert.False(decided.Accepted, $"{phase}: {id} must be rejected");
    }

    /// <summary>An adoption of <paramref name="id"/> into <paramref name="slot"/> at <paramref name="version"/> (its recipes aside).</summary>
    protected static void AssertAdopt(int slot, string id, long version, AdoptWeights adopt) =>
        Assert.Equal((slot, id, version), (adopt.Slot, adopt.WeightsId, adopt.Version));
}
