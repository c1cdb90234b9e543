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

    /// <summary>o-1 beat its target and its file is written: the evaluator's OffspringPersisted makes the steward persist the acceptance.</summary>
    private IActorRef StewardWithO1Written()
    {
        var steward = InitializedSteward(Settings());
        steward.Tell(new OffspringScored(Offspring("o-1", 1), 0.7, 0, "e0", Evaluator.Ref));
        Evaluator.ExpectMsg(new PersistOffspring("o-1"), Wait, "the steward asks for o-1's file");
        using var child = Tiny(10);
        Store.Write("o-1", child);
        return steward;
    }

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
        var steward = StewardWithO1Written();

        await Journal.OnWrite.Fail();
        Watch(steward);
        var ended = RunEndedProbe();
        Evaluator.Reply(new OffspringPersisted("o-1"));

        // A persistence failure stops the steward: nothing is adopted, nobody hears of an acceptance, and the node
        // hears that the run ended (it would otherwise wait for a steward that is gone).
        var end = ended.ExpectMsg<RunEnded>(Wait, "the run ends when the journal fails");
        Assert.Equal(("failed", StewardActor.JournalFailedExitCode), (end.State, end.ExitCode));
        Assert.Contains("could not store OffspringAccepted", end.Reason, StringComparison.Ordinal);
        ExpectTerminated(steward, Wait, "the steward stops when the journal fails to store OffspringAccepted");
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

        steward.Tell(new OffspringScored(Offspring("o-bad", 99), 0.7, 0, "e0", Evaluator.Ref)); // no slot 99

        var end = ended.ExpectMsg<RunEnded>(Wait, "the run ends when the steward throws");
        Assert.Equal(("failed", StewardActor.StewardFailedExitCode), (end.State, end.ExitCode));
        Assert.Contains("the steward failed on OffspringScored", end.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Steward_decides_an_acceptance_the_journal_rejected_as_not_accepted_and_goes_on()
    {
        var steward = StewardWithO1Written();

        await Journal.OnWrite.Reject();
        Evaluator.Reply(new OffspringPersisted("o-1"));
        var decided = Evaluator.FishForMessage<OffspringDecided>(d => d.OffspringId == "o-1", Wait, "the decision on o-1 after the journal rejected it");
        Assert.False(decided.Accepted, "an acceptance the journal did not store is not an acceptance");
        Assert.Equal(0, decided.Ledger.Version);
        Members.ExpectNoMsg(Quiet);

        // The run goes on once the journal stores events again: the next offspring is decided, not stashed forever.
        await Journal.OnWrite.Pass();
        Accept(steward, "o-2", 0, 0.8, 0);
        Assert.Equal((1L, "o-2"), (Progress(steward, "after o-2").Version, Progress(steward, "after o-2").Ledger.SlotWeights[0]));
    }
}
