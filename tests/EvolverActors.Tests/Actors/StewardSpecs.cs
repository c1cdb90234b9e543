using Akka.Actor;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// The steward's acceptance protocol with probes standing in for the members' shard region, an evaluator and a
/// breeder (docs/architecture.md §2–3): write-ahead order, the version rule, budgets, recovery.
/// </summary>
public sealed class StewardSpecs(ITestOutputHelper output) : StewardSpecBase(output)
{
    [Fact]
    public void Steward_accepts_in_write_ahead_order()
    {
        var steward = InitializedSteward(Settings());
        steward.Tell(new OffspringScored(Offspring("o-1", 1, sequence: 0), 0.7, 0, "hash", "e0", Evaluator.Ref));

        // The acceptance event is stored first (the ledger says so when the member is told), then the member adopts.
        var adopt = Members.ExpectMsg<AdoptWeights>(Wait, "write-ahead: slot 1 adopting o-1");
        AssertAdopt(1, "o-1", 1, adopt);
        var after = Progress(steward, "write-ahead, accepted");
        Assert.Equal((1, 1L), (after.Accepted, after.Version));
        Assert.Equal("o-1", after.Ledger.SlotWeights[1]);
        Assert.Equal(0.7, after.PopulationScore);
        Assert.False(Store.Contains("o-1"), "no weight file is written per acceptance: the journal holds the recipe");
        Breeder.FishForMessage<OffspringDecided>(d => d.OffspringId == "o-1" && d.Accepted, Wait, "write-ahead: the breeder hears of o-1");
    }

    [Fact]
    public void Steward_decides_in_issue_order_whatever_order_scores_arrive_in()
    {
        var steward = InitializedSteward(Settings() with { Mode = FitnessMode.Individual }, slotScores: [0.5, 0.5, 0.5]);
        // o-2 (sequence 1) arrives first and beats its slot, but waits for o-1 (sequence 0).
        steward.Tell(new OffspringScored(Offspring("o-2", 1, sequence: 1), 0.9, 0, "hash", "e0", Evaluator.Ref));
        Members.ExpectNoMsg(Quiet);
        Assert.Equal(3, Progress(steward, "o-2 waiting").Evaluations); // the initial scores only
        steward.Tell(new OffspringScored(Offspring("o-1", 1, sequence: 0), 0.7, 0, "hash", "e0", Evaluator.Ref));
        AssertAdopt(1, "o-1", 1, Members.ExpectMsg<AdoptWeights>(Wait, "o-1 decided first"));
        AssertAdopt(1, "o-2", 2, Members.ExpectMsg<AdoptWeights>(Wait, "then o-2, against o-1's 0.7"));
    }

    [Fact]
    public void Steward_never_accepts_on_a_stale_comparison()
    {
        var steward = InitializedSteward(Settings());
        var version = Accept(steward, "o-1", 0, 0.6, 0);
        Assert.Equal(1, version);

        // Scored against version 0 and better than the current S (0.6): re-scored, never accepted on that comparison.
        steward.Tell(new OffspringScored(Offspring("o-2", 1, sequence: 1), 0.7, 0, "hash", "e0", Evaluator.Ref));
        Evaluator.ExpectMsg<RescoreOffspring>(m => m.OffspringId == "o-2" && m.Population.Version == 1, Wait, "stale o-2: a re-score against version 1");
        Members.ExpectNoMsg(Quiet);
        Assert.Equal(1, Progress(steward, "stale o-2 awaiting its re-score").Accepted);

        // Re-scored against version 1 it no longer beats S: rejected.
        steward.Tell(new OffspringScored(Offspring("o-2", 1, sequence: 1), 0.59, 1, "hash", "e0", Evaluator.Ref));
        ExpectRejected("o-2", "o-2 re-scored below S");

        // Scored against version 0 and not better than the current S: rejected without a re-score.
        steward.Tell(new OffspringScored(Offspring("o-3", 2, sequence: 2), 0.55, 0, "hash", "e0", Evaluator.Ref));
        var decided = Evaluator.ExpectMsg<OffspringDecided>(Wait, "stale o-3 below S: rejected at once (no re-score, no file)");
        Assert.Equal(("o-3", false), (decided.OffspringId, decided.Accepted));

        var progress = Progress(steward, "after the stale offspring");
        Assert.Equal((1, 2, 1L), (progress.Accepted, progress.Rejected, progress.Version));
        Assert.Equal(0.6, progress.PopulationScore);
        Members.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Steward_accepts_a_stale_offspring_that_still_beats_S_after_its_rescore()
    {
        var steward = InitializedSteward(Settings());
        var version = Accept(steward, "o-1", 0, 0.6, 0);
        steward.Tell(new OffspringScored(Offspring("o-2", 1, sequence: 1), 0.7, 0, "hash", "e0", Evaluator.Ref));
        Evaluator.ExpectMsg<RescoreOffspring>(m => m.OffspringId == "o-2" && m.Population.Version == version, Wait, "stale o-2: a re-score against version 1");
        Accept(steward, "o-2", 1, 0.65, version, sequence: 1);
        Assert.Equal(0.65, Progress(steward, "after o-2's acceptance").PopulationScore);
    }

    [Fact]
    public void Steward_finishes_a_re_score_that_reaches_the_budget_and_then_ends_the_run()
    {
        var ended = Probe("run-ended");
        Sys.EventStream.Subscribe(ended.Ref, typeof(RunEnded));
        // Budget 3: the initial score, o-1 (accepted) and o-2, whose stale score asks for a re-score at the budget.
        var steward = InitializedSteward(Settings() with { MaxEvaluations = 3 });
        var version = Accept(steward, "o-1", 0, 0.6, 0);
        steward.Tell(new OffspringScored(Offspring("o-2", 1, sequence: 1), 0.7, 0, "hash", "e0", Evaluator.Ref));
        Evaluator.ExpectMsg<RescoreOffspring>(m => m.OffspringId == "o-2" && m.Population.Version == version, Wait, "stale o-2 at the budget: a re-score");
        // The re-score is decided (not abandoned), and the run ends instead of idling on abandoned offspring.
        steward.Tell(new OffspringScored(Offspring("o-2", 1, sequence: 1), 0.55, version, "hash", "e0", Evaluator.Ref));
        ExpectRejected("o-2", "the re-scored o-2");
        Assert.Equal("finished", ended.ExpectMsg<RunEnded>(Wait, "budget spent by a re-score: RunEnded").State);
    }

    [Theory]
    [InlineData(FitnessMode.Merged, double.NaN)]
    [InlineData(FitnessMode.Merged, double.PositiveInfinity)]
    [InlineData(FitnessMode.Individual, double.NaN)]
    [InlineData(FitnessMode.Individual, double.PositiveInfinity)]
    public void Steward_rejects_non_finite_scores(FitnessMode mode, double score)
    {
        var steward = InitializedSteward(Settings(mode), slotScores: [0.1, 0.2, 0.3]);
        steward.Tell(new OffspringScored(Offspring("o-1", 0, sequence: 0), score, 0, "hash", "e0", Evaluator.Ref));
        var decided = Evaluator.ExpectMsg<OffspringDecided>(Wait, $"o-1 scored {score}: decided without a file");
        Assert.Equal(("o-1", false), (decided.OffspringId, decided.Accepted));
        Members.ExpectNoMsg(Quiet);
        var progress = Progress(steward, "after the non-finite score");
        Assert.Equal((0, 1, 0L), (progress.Accepted, progress.Rejected, progress.Version));
    }

    [Fact]
    public void Steward_finishes_at_the_evaluation_budget_and_publishes_RunEnded()
    {
        var ended = Probe("run-ended");
        Sys.EventStream.Subscribe(ended.Ref, typeof(RunEnded));
        // The initial score counts as one evaluation (merged mode): two offspring exhaust a budget of 3.
        var steward = InitializedSteward(Settings() with { MaxEvaluations = 3 });
        var version = Accept(steward, "o-1", 0, 0.6, 0);
        ended.ExpectNoMsg(Quiet);
        steward.Tell(new OffspringScored(Offspring("o-2", 1, sequence: 1), 0.1, version, "hash", "e0", Evaluator.Ref));
        ExpectRejected("o-2", "the last evaluation of the budget");

        var end = ended.ExpectMsg<RunEnded>(Wait, "budget spent: RunEnded is published");
        Assert.Equal(("finished", 0), (end.State, end.ExitCode));
        Assert.Contains("max-evaluations", end.Reason, StringComparison.Ordinal);
        Breeder.FishForMessage<LedgerChanged>(m => m.Ledger.Finished, Wait, "budget spent: the breeder hears the run is finished");
        var progress = Progress(steward, "finished");
        Assert.Equal(("finished", 3L), (progress.State, progress.Evaluations));

        // Late scores are decided (rejected) without counting or accepting.
        steward.Tell(new OffspringScored(Offspring("o-3", 2, sequence: 2), 0.99, version, "hash", "e0", Evaluator.Ref));
        ExpectRejected("o-3", "a score that arrives after the end");
        Assert.Equal(3L, Progress(steward, "after a late score").Evaluations);

        // A finished run reports instead of running again.
        StopAndWait(steward, "the finished steward");
        StartSteward();
        var again = ended.ExpectMsg<RunEnded>(Wait, "a restarted finished run reports at once");
        Assert.Equal("finished", again.State);
        Members.ExpectNoMsg(Quiet);
    }

    [Theory]
    [InlineData(50)]
    [InlineData(1)]
    public void Steward_recovers_its_ledger_and_has_theMembers_re_adopt_it(int snapshotEvery)
    {
        var steward = InitializedSteward(Settings() with { SnapshotEvery = snapshotEvery });
        var version = Accept(steward, "o-1", 2, 0.6, 0);
        version = Accept(steward, "o-2", 0, 0.7, version, sequence: 1);
        steward.Tell(new OffspringScored(Offspring("o-3", 1, sequence: 2), 0.1, version, "hash", "e0", Evaluator.Ref));
        ExpectRejected("o-3", "a rejection before the restart");
        var before = Progress(steward, "before the restart");

        StopAndWait(steward, "the steward (first incarnation)");
        var recovered = StartSteward();
        var adopted = AcknowledgeAdoptions("recovery");
        Assert.Equal(["o-2", "m1", "o-1"], adopted.Select(a => a.WeightsId));
        Assert.All(adopted, a => Assert.Equal(2, a.Version));

        var after = Progress(recovered, "after recovery");
        Assert.Equal((2L, 2L, 1L), (after.Version, after.Accepted, after.Rejected));
        Assert.Equal(before.Evaluations, after.Evaluations);
        Assert.Equal(0.7, after.PopulationScore);
        Assert.Equal(["o-2", "m1", "o-1"], after.Ledger.SlotWeights);

        // The recovered steward does not ask for the initial scores again; a new evaluator gets the ledger.
        recovered.Tell(new RegisterEvaluator(Evaluator.Ref, "e0"));
        Evaluator.FishForMessage<LedgerChanged>(m => m.Ledger.Version == 2, Wait, "recovery: the evaluator gets the version-2 ledger");
        Accept(recovered, "o-4", 1, 0.8, 2, sequence: 3);
    }

    [Fact]
    public void Steward_stops_the_run_when_a_member_cannot_load_its_weights()
    {
        var ended = Probe("run-ended");
        Sys.EventStream.Subscribe(ended.Ref, typeof(RunEnded));
        Install(Settings());
        StartSteward();
        var adopt = Members.ExpectMsg<AdoptWeights>(Wait, "start: the first AdoptWeights");
        Members.Reply(new AdoptionFailed(adopt.Slot, adopt.WeightsId, "no such file in the weight store"));
        var end = ended.ExpectMsg<RunEnded>(Wait, "a member that cannot load its weights ends the run");
        Assert.Equal(("failed", 2), (end.State, end.ExitCode));
        Assert.Contains($"slot {adopt.Slot}", end.Reason, StringComparison.Ordinal);
        Assert.Contains(adopt.WeightsId, end.Reason, StringComparison.Ordinal);
    }
}
