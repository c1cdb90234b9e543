using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using Akka.TestKit;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// Faults: journal failures injected with Akka.Persistence.TestKit's <see cref="TestJournal"/>, and a steward that
/// throws. An acceptance the journal did not store is never reported, the ledger recovered afterwards does not
/// contain it (docs/architecture.md §3), and a failure the steward cannot go on from ends the run with a reason.
/// </summary>
public sealed class StewardFaultSpecs(ITestOutputHelper output) : StewardSpecBase(output, Hocon)
{
    // serialize-messages stays off here: Akka's own journal-failure messages carry exceptions that its default
    // serializer cannot copy (the other specs prove our messages serialisable).
    private static readonly string Hocon = $"""
        akka.loglevel = WARNING
        akka.actor.serialize-messages = off
        akka.persistence.journal.plugin = "akka.persistence.journal.test"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        {ConfigurationFactory.FromResource<TestJournal>("Akka.Persistence.TestKit.config.conf")}
        """;

    private ITestJournal Journal => TestJournal.FromRef(Persistence.Instance.Apply(Sys).JournalFor(null));

    /// <summary>o-1 beats S: its score makes the steward persist the acceptance.</summary>
    private static OffspringScored O1(IActorRef evaluator) => new(Offspring("o-1", 1, sequence: 0), 0.7, 0, "hash", "e0", evaluator);

    /// <summary>Hears the RunEnded the steward publishes for the node.</summary>
    private TestProbe RunEndedProbe()
    {
        var ended = Probe("run-ended");
        Sys.EventStream.Subscribe(ended.Ref, typeof(RunEnded));
        return ended;
    }

    [Fact]
    public async Task Steward_never_reports_an_acceptance_the_journal_failed_to_write()
    {
        var steward = InitializedSteward(Settings());

        await Journal.OnWrite.Fail();
        Watch(steward);
        var ended = RunEndedProbe();
        steward.Tell(O1(Evaluator.Ref));

        // A persistence failure stops the steward: nothing is adopted, nobody hears of an acceptance, and the node
        // hears that the run ended (it would otherwise wait for a steward that is gone).
        var end = ended.ExpectMsg<RunEnded>(Wait, "the run ends when the journal fails");
        Assert.Equal(("failed", StewardActor.JournalFailedExitCode), (end.State, end.ExitCode));
        Assert.Contains("could not store RecipeAccepted", end.Reason, StringComparison.Ordinal);
        ExpectTerminated(steward, Wait, "the steward stops when the journal fails to store RecipeAccepted");
        Members.ExpectNoMsg(Quiet);
        Breeder.ExpectNoMsg(Quiet);

        // The journal works again: the recovered ledger is still version 0 and the members re-adopt the initial weights.
        await Journal.OnWrite.Pass();
        var recovered = StartSteward();
        var adopted = AcknowledgeAdoptions("recovery after the failed write");
        Assert.Equal(["m0", "m1", "m2"], adopted.Select(a => a.WeightsId));
        Assert.All(adopted, a => Assert.Equal(0, a.Version));
        var progress = Progress(recovered, "after recovery");
        Assert.Equal((0L, 0L), (progress.Version, progress.Accepted));
    }

    [Fact]
    public async Task A_journal_that_cannot_be_read_back_ends_the_run_with_a_reason()
    {
        // A run with one stored event (RunInitialized), stopped; its replay then fails.
        var first = InitializedSteward(Settings());
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first, Wait, "the first steward stops");
        await Journal.OnRecovery.Fail();
        var ended = RunEndedProbe();
        Watch(StartSteward());

        var end = ended.ExpectMsg<RunEnded>(Wait, "the run ends when recovery fails");
        Assert.Equal(("failed", StewardActor.JournalFailedExitCode), (end.State, end.ExitCode));
        Assert.StartsWith("the journal could not be read back", end.Reason, StringComparison.Ordinal);
        ExpectMsg<Terminated>(Wait, "the steward stops after a failed recovery");
        Members.ExpectNoMsg(Quiet);

        // Readers of the ledger (status, lineage, export) get a one-line error instead of waiting.
        var read = new TaskCompletionSource<LedgerReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        Sys.ActorOf(Props.Create(() => new LedgerReader(Runtime.RunId, read)));
        var error = await Assert.ThrowsAsync<JournalUnreadableException>(() => read.Task.WaitAsync(Wait));
        Assert.StartsWith($"the journal of run '{Runtime.RunId}' cannot be read back", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_steward_that_throws_ends_the_run_instead_of_restarting_without_its_evaluators()
    {
        var steward = InitializedSteward(Settings() with { Mode = FitnessMode.Individual });
        var ended = RunEndedProbe();

        steward.Tell(new OffspringScored(Offspring("o-bad", 99), 0.7, 0, "hash", "e0", Evaluator.Ref)); // no slot 99

        var end = ended.ExpectMsg<RunEnded>(Wait, "the run ends when the steward throws");
        Assert.Equal(("failed", StewardActor.StewardFailedExitCode), (end.State, end.ExitCode));
        // Decisions are taken on the steward's own CheckBudget after the scores that became due (one journal write).
        Assert.Contains("the steward failed on CheckBudget: IndexOutOfRangeException", end.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_acceptance_the_journal_refuses_ends_the_run_resumable_and_is_never_adopted()
    {
        var steward = InitializedSteward(Settings());
        var ended = RunEndedProbe();

        await Journal.OnWrite.Reject();
        steward.Tell(O1(Evaluator.Ref));
        // Decisions are made in order, so a refused one cannot be skipped: the run ends (exit 3) with nothing adopted.
        var end = ended.ExpectMsg<RunEnded>(Wait, "the run ends when the journal refuses a decision");
        Assert.Equal(("failed", StewardActor.JournalFailedExitCode), (end.State, end.ExitCode));
        Assert.Contains("refused RecipeAccepted", end.Reason, StringComparison.Ordinal);
        Members.ExpectNoMsg(Quiet);
        Assert.Equal(0L, Progress(steward, "after the refusal").Version);
    }
}
