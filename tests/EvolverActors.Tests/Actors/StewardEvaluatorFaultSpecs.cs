using Akka.Actor;
using Akka.TestKit;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// Evaluators that fail, seen from the steward (probes for the evaluators, breeder and members): failed offspring count
/// toward the budget, the initial scores move to a healthy evaluator, and a run with none left ends with status 5.
/// </summary>
public sealed class StewardEvaluatorFaultSpecs(ITestOutputHelper output) : StewardSpecBase(output)
{
    private const string Retirement = "evaluator 'e0' retired after 5 consecutive failures: device fault";

    /// <summary>Hears the RunEnded the steward publishes for the node.</summary>
    private TestProbe RunEndedProbe()
    {
        var probe = Probe("run-ended");
        Sys.EventStream.Subscribe(probe.Ref, typeof(RunEnded));
        return probe;
    }

    private long _sequence;

    private void Lose(IActorRef steward, string id, int target)
    {
        steward.Tell(new OffspringLost(Offspring(id, target, sequence: _sequence++), "e0: device fault"));
        var decided = Breeder.FishForMessage<OffspringDecided>(d => d.OffspringId == id, Wait, $"{id} given up: the breeder may release it");
        Assert.False(decided.Accepted);
    }

    [Fact]
    public void Offspring_given_up_after_their_retries_count_toward_the_budget_also_after_a_restart()
    {
        var ended = RunEndedProbe();
        // Budget 4: the initial score, then three offspring that all fail.
        var steward = InitializedSteward(Settings() with { MaxEvaluations = 4 });
        Lose(steward, "o-1", 0);
        var progress = Progress(steward, "after one failure");
        Assert.Equal((2L, 1L, 1L, 0L), (progress.Evaluations, progress.Failed, progress.Lost, progress.Rejected));

        // The count is in the journal: a restarted steward has it.
        StopAndWait(steward, "the steward (first incarnation)");
        var recovered = StartSteward();
        AcknowledgeAdoptions("recovery");
        Assert.Equal((2L, 1L), (Progress(recovered, "after recovery").Evaluations, Progress(recovered, "after recovery").Failed));

        recovered.Tell(new RegisterBreeder(Breeder.Ref));
        Lose(recovered, "o-2", 1);
        ended.ExpectNoMsg(Quiet);
        Lose(recovered, "o-3", 2);
        var end = ended.ExpectMsg<RunEnded>(Wait, "failures alone spend the budget: the run ends");
        Assert.Equal(("finished", 0), (end.State, end.ExitCode));
        Assert.Contains("max-evaluations (4) reached", end.Reason, StringComparison.Ordinal);

        // A failure that arrives after the end is released without being counted.
        Lose(recovered, "o-4", 0);
        var final = Progress(recovered, "after a late failure");
        Assert.Equal((4L, 3L), (final.Evaluations, final.Failed));
    }

    [Fact]
    public void The_initial_scores_are_asked_of_the_next_evaluator_when_the_first_cannot_compute_them()
    {
        var second = Probe("evaluator-2");
        Install(Settings() with { Devices = ["meta", "cpu"] });
        var steward = StartSteward();
        AcknowledgeAdoptions("start");
        steward.Tell(new RegisterBreeder(Breeder.Ref));
        steward.Tell(new RegisterEvaluator(Evaluator.Ref, "e0"));
        Evaluator.FishForMessage<ScorePopulation>(_ => true, Wait, "the first evaluator is asked for the initial scores");
        steward.Tell(new RegisterEvaluator(second.Ref, "e1"));
        second.ExpectNoMsg(Quiet); // one evaluator at a time scores the population

        steward.Tell(new PopulationScoreFailed(0, "e0", Evaluator.Ref, "e0: meta tensors have no data"));
        second.FishForMessage<ScorePopulation>(_ => true, Wait, "the initial scoring moves to the second evaluator");
        second.Reply(new PopulationScored(0, [0.5, 0.5, 0.5], 0.5, "e1"));
        Breeder.FishForMessage<LedgerChanged>(m => m.Ledger.Version == 0 && m.Ledger.PopulationScore == 0.5, Wait,
            "the run is initialised by the second evaluator");
        Assert.Equal(1L, Progress(steward, "initialised").Evaluations);
    }

    [Fact]
    public void A_run_whose_last_evaluator_is_retired_ends_with_status_5_and_stays_resumable()
    {
        var ended = RunEndedProbe();
        var steward = InitializedSteward(Settings());
        steward.Tell(new EvaluatorRetired(Evaluator.Ref, "e0", Retirement));

        var end = ended.ExpectMsg<RunEnded>(Wait, "no healthy evaluator left: the run ends");
        Assert.Equal(("failed", StewardActor.NoHealthyEvaluatorExitCode), (end.State, end.ExitCode));
        Assert.Equal($"no healthy evaluator left ({Retirement})", end.Reason);
        Assert.Equal(end.Reason, Breeder.FishForMessage<StopBreeding>(_ => true, Wait, "the breeder stops handing out work").Reason);
        Assert.Equal("failed", Progress(steward, "after the end").State);

        // Nothing was finished in the journal: the same run starts again from where it was.
        StopAndWait(steward, "the failed steward");
        var resumed = StartSteward();
        AcknowledgeAdoptions("resume");
        Assert.Equal(("running", 1L), (Progress(resumed, "resumed").State, Progress(resumed, "resumed").Evaluations));
        ended.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Retiring_one_of_two_evaluators_goes_on_and_its_late_scores_are_not_decided()
    {
        var ended = RunEndedProbe();
        var second = Probe("evaluator-2");
        var steward = InitializedSteward(Settings() with { Devices = ["cpu", "cpu"] });
        steward.Tell(new RegisterEvaluator(second.Ref, "e1"));
        steward.Tell(new EvaluatorRetired(Evaluator.Ref, "e0", Retirement));
        ended.ExpectNoMsg(Quiet);

        // A score e0 sent before it retired: the breeder has re-issued that offspring, so it is not decided here.
        steward.Tell(new OffspringScored(Offspring("o-1", 1, sequence: 0), 0.9, 0, "hash", "e0", Evaluator.Ref));
        Evaluator.ExpectNoMsg(Quiet);
        Assert.Equal(1L, Progress(steward, "after e0's late score").Evaluations);

        // The healthy evaluator's scores are decided as usual.
        steward.Tell(new OffspringScored(Offspring("o-1", 1, sequence: 0), 0.1, 0, "hash", "e1", second.Ref));
        Assert.False(second.FishForMessage<OffspringDecided>(d => d.OffspringId == "o-1", Wait, "e1's score of o-1 is decided").Accepted);

        // The second one retires too: now nobody can evaluate.
        steward.Tell(new EvaluatorRetired(second.Ref, "e1", "evaluator 'e1' retired after 5 consecutive failures: disk gone"));
        var end = ended.ExpectMsg<RunEnded>(Wait, "the last healthy evaluator retired");
        Assert.Equal($"no healthy evaluator left ({Retirement}; evaluator 'e1' retired after 5 consecutive failures: disk gone)", end.Reason);
    }

    [Fact]
    public void A_run_waits_for_an_evaluator_still_starting_before_giving_up()
    {
        var ended = RunEndedProbe();
        var second = Probe("evaluator-2");
        Install(Settings() with { Devices = ["meta", "cpu"] });
        var steward = StartSteward();
        AcknowledgeAdoptions("start");
        steward.Tell(new RegisterEvaluator(Evaluator.Ref, "e0"));
        steward.Tell(new EvaluatorRetired(Evaluator.Ref, "e0", Retirement));
        ended.ExpectNoMsg(Quiet); // the cpu evaluator has not registered yet

        steward.Tell(new RegisterEvaluator(second.Ref, "e1"));
        second.FishForMessage<ScorePopulation>(_ => true, Wait, "the evaluator that came later scores the population");
    }
}
