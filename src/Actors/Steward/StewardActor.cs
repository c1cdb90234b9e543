using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;

namespace EvolverActors.Actors.Steward;

/// <summary>
/// One per run (a cluster singleton): decides acceptance and keeps the run's ledger, the one journal of the run.
/// The protocol is the pure <see cref="StewardMachine"/>; this actor persists its events, applies them and performs
/// its effects. An acceptance is write-ahead (docs/architecture.md §3): the <see cref="RecipeAccepted"/> event is
/// stored, then the member adopts by materializing the child (usually resident already). No weight file is written
/// per acceptance; population snapshots bound the rebuild.
/// </summary>
public sealed partial class StewardActor : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EvolverRuntime _runtime;
    private readonly IActorRef _members;
    private readonly EvaluatorRoster _evaluators;
    private readonly HashSet<IActorRef> _breeders = [];
    private readonly HashSet<int> _awaitingAdoption = [];
    private readonly Stopwatch _session = Stopwatch.StartNew();
    private readonly StewardMachine _machine;

    /// <summary>How this session ended, once it has (later status writes keep saying so).</summary>
    private RunEnded? _end;
    private long _sessionStartEvaluations;
    private DateTime _lastStatus = DateTime.MinValue;
    private readonly DateTime _startedUtc = DateTime.UtcNow;

    public StewardActor(IActorRef members)
    {
        _runtime = EvolverRuntime.Get(Context.System);
        _members = members;
        _evaluators = new EvaluatorRoster(_runtime.Settings.Devices.Count);
        _machine = new StewardMachine(_runtime.Settings);
        _machine.Ledger.ViewWindow = _runtime.Settings.ViewWindow(_runtime.Slots);
        PersistenceId = $"steward-{_runtime.RunId}";
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("steward started, recovering");

        Recover<SnapshotOffer>(offer =>
        {
            EvolverActors.Tensors.Diagnostics.StartupTrace.Mark($"steward snapshot loaded (sequence {offer.Metadata.SequenceNr})");
            if (offer.Snapshot is StewardSnapshot snapshot)
            {
                _machine.Ledger = snapshot.State.Copy(); // the store's object stays as it was saved
                _machine.Ledger.ViewWindow = _runtime.Settings.ViewWindow(_runtime.Slots);
            }
        });
        Recover<RunInitialized>(_machine.Apply);
        Recover<OffspringAccepted>(_machine.Apply);
        Recover<OffspringRejected>(_machine.Apply);
        Recover<OffspringDropped>(_machine.Apply);
        Recover<OffspringEvaluationFailed>(_machine.Apply);
        Recover<RecipeAccepted>(e =>
        {
            _machine.Apply(e);
            Remember(e);
        });
        Recover<RecipeRejected>(_machine.Apply);
        Recover<RecipeFailed>(_machine.Apply);
        Recover<PopulationSnapshotted>(_machine.Apply);
        Recover<RunFinished>(_machine.Apply);
        Recover<RunReopened>(_machine.Apply);
        Recover<BudgetChanged>(_machine.Apply);
        Recover<MemberAdmitted>(_machine.Apply);
        Recover<MemberRetired>(_machine.Apply);
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Adopting();
    }

    public override string PersistenceId { get; }

    /// <summary>How many of the latest acceptances the steward keeps for the live page.</summary>
    public const int RecentKept = 20;

    private readonly LinkedList<RecipeAccepted> _recent = new();

    private void Remember(RecipeAccepted accepted)
    {
        _recent.AddFirst(accepted);
        if (_recent.Count > RecentKept)
        {
            _recent.RemoveLast();
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private RunSettings? _effective;
    private BudgetChanged? _effectiveBudget;

    /// <summary>The run's settings, with the budget changed while running in place of the config's (docs/architecture.md §6).</summary>
    private RunSettings Settings
    {
        get
        {
            if (_effective is null || !ReferenceEquals(_effectiveBudget, Ledger.Budget))
            {
                (_effective, _effectiveBudget) = (Ledger.Effective(_runtime.Settings), Ledger.Budget);
            }
            return _effective;
        }
    }

    private StewardState Ledger => _machine.Ledger;

    /// <summary>After recovery: finished runs report; others make every member hold its ledger weights first.</summary>
    private void OnRecovered()
    {
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark($"steward recovered (version {Ledger.Version}, {Ledger.Evaluations} evaluations)");
        _sessionStartEvaluations = Ledger.Evaluations;
        _runtime.Metrics?.Publish(Ledger, Settings);
        foreach (var (id, accepted) in Ledger.Recipes)
        {
            _runtime.Book.Add(id, accepted.Recipe, accepted.ContentHash);
        }
        if (Ledger.Finished && Ledger.CanReopen(Settings))
        {
            // Its budget was raised: it goes on (docs/architecture.md §3); the event is stored before anything runs.
            Persist(new RunReopened(Ledger.FinishedReason!, BudgetValues.Of(Settings), DateTime.UtcNow), e =>
            {
                _log.Info("run {0} goes on: it had finished ({1}), and its budget was raised", _runtime.RunId, e.PreviousReason);
                _machine.Apply(e);
                AdoptAndGoOn();
            });
            return;
        }
        if (Ledger.Finished)
        {
            _log.Info("run {0} already finished: {1}", _runtime.RunId, Ledger.FinishedReason);
            End("finished", Ledger.FinishedReason!, 0);
            return;
        }
        AdoptAndGoOn();
    }

    /// <summary>Every member holds its ledger weights first; then the run goes on.</summary>
    private void AdoptAndGoOn()
    {
        _awaitingAdoption.UnionWith(Ledger.Initialized ? Ledger.View().ActiveSlots() : Enumerable.Range(0, _runtime.Slots));
        RequestAdoption();
        // Members are sharding entities: while a lost node's shards move (a failover, docs/architecture.md §4) a message
        // to them can be dropped, so the steward asks again until every slot has answered (adopting is idempotent).
        Timers.StartPeriodicTimer(ReAdopt.Instance, ReAdopt.Instance, AdoptionRetry);
    }

    private static readonly TimeSpan AdoptionRetry = TimeSpan.FromSeconds(3);

    private sealed record ReAdopt
    {
        public static ReAdopt Instance { get; } = new();
    }

    /// <summary>Sends every slot still awaiting adoption its ledger weights (with the recipes a member's node may need).</summary>
    private void RequestAdoption()
    {
        var weights = SlotWeights();
        var recipes = KnownRecipes();
        foreach (var slot in _awaitingAdoption)
        {
            _members.Tell(new AdoptWeights(slot, weights[slot], Ledger.Version, recipes));
        }
    }

    /// <summary>Phase 1: waiting for every member to hold its weights (weights that cannot be obtained stop the run here).</summary>
    private void Adopting()
    {
        Command<WeightsAdoptedAck>(ack =>
        {
            _awaitingAdoption.Remove(ack.Slot);
            if (_awaitingAdoption.Count == 0)
            {
                Timers.Cancel(ReAdopt.Instance);
                EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("every member adopted");
                Become(Running);
                Stash.UnstashAll();
                Start();
            }
        });
        Command<AdoptionFailed>(failed => End("failed",
            $"slot {failed.Slot}: weights '{failed.WeightsId}' cannot be loaded: {failed.Problem}", 2));
        Command<ReAdopt>(_ => RequestAdoption());
        Command<StopRun>(m => End("stopped", m.Reason, 0));
        Command<GetRunProgress>(_ => Sender.Tell(Progress()));
        CommandAny(_ => Stash.Stash());
    }

    private void Start()
    {
        if (Ledger.Initialized)
        {
            Broadcast();
            return;
        }
        RequestInitialScore();
    }

    private LedgerView CurrentView() => Ledger.Initialized
        ? Ledger.View()
        : new LedgerView(0, SlotWeights(), new double[_runtime.Slots], null, false);

    /// <summary>The weights each slot holds: the ledger's, or the starting members' before the first scores.</summary>
    private string[] SlotWeights() => Ledger.Initialized ? Ledger.SlotWeights : [.. _runtime.InitialWeights];

    /// <summary>Asks one healthy evaluator for the initial scores: the next after <paramref name="after"/>, the one that just failed them.</summary>
    private void RequestInitialScore(IActorRef? after = null)
    {
        if (_evaluators.InitialScorer is not null || Ledger.Initialized || _machine.Stopping)
        {
            return;
        }
        if (_evaluators.NextScorer(after) is not { } evaluator)
        {
            return;
        }
        _evaluators.InitialScorer = evaluator;
        evaluator.Tell(new LedgerChanged(CurrentView(), KnownRecipes()));
        evaluator.Tell(new ScorePopulation(0));
    }

    /// <summary>The population to every evaluator, and where to breed from to every breeder.</summary>
    private void Broadcast(KnownRecipe? accepted = null)
    {
        var view = new LedgerChanged(CurrentView(), accepted is null ? null : [accepted]);
        foreach (var target in _evaluators.Healthy)
        {
            target.Tell(view);
        }
        foreach (var breeder in _breeders)
        {
            breeder.Tell(view);
        }
    }

    /// <summary>Every recipe the ledger keeps (since the older kept population snapshot): what a newly registered evaluator needs.</summary>
    private List<KnownRecipe> KnownRecipes() => [.. Ledger.Recipes.Select(r => new KnownRecipe(r.Key, r.Value.Recipe, r.Value.ContentHash))];

    /// <summary>Where a breeder starts: the first undecided offspring, the budget's last, and the populations it breeds from.</summary>
    private BreedFrom BreedingStart() =>
        new(Ledger.NextSequence, Ledger.NextSequence + Math.Max(0, Settings.MaxEvaluations - Ledger.Evaluations), [.. Ledger.Views],
            Settings.Search.Enabled ? [.. Ledger.SearchScores ?? []] : null);

    private RunProgress Progress()
    {
        var rate = (Ledger.Evaluations - _sessionStartEvaluations) / Math.Max(1e-9, _session.Elapsed.TotalSeconds);
        double? eta = rate > 0 ? Math.Max(0, Settings.MaxEvaluations - Ledger.Evaluations) / rate : null;
        var state = _end?.State ?? (Ledger.Finished ? "finished" : _machine.Stopping ? "stopped" : _paused ? "paused" : "running");
        return new RunProgress(state, Ledger.Evaluations, Ledger.Accepted, Ledger.Rejected, Ledger.Dropped + Ledger.Failed, Ledger.BestDev(Settings.Mode),
            Ledger.PopulationScore, Ledger.Version, rate, eta, Ledger.FinishedReason ?? _end?.Reason, CurrentView(), Ledger.Failed, Settings.MaxEvaluations);
    }

    private void End(string state, string reason, int exitCode)
    {
        _end = new RunEnded(state, reason, exitCode);
        WriteStatus(force: true, state, reason);
        Context.System.EventStream.Publish(_end);
    }

    /// <summary>The exit code of a run that ended because its journal or its snapshot storage failed (the run is resumable).</summary>
    public const int JournalFailedExitCode = 3;

    /// <summary>The exit code of a run whose steward threw (a bug or a message it cannot handle; the run is resumable).</summary>
    public const int StewardFailedExitCode = 4;

    /// <summary>The exit code of a run whose every evaluator was retired (failed too often in a row; the run is resumable).</summary>
    public const int NoHealthyEvaluatorExitCode = 5;

    // Akka stops a persistent actor whose journal write or replay failed. Without a word the node would wait for a
    // steward that is gone; instead the run ends with a non-zero exit and one line, and `evolver run` (or systemd's
    // Restart=on-failure) resumes from the last stored event. The event that failed was never acted on.
    // The base methods only log, with the exception's stack trace; for a disk or file problem the one line is enough.
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) =>
        EndOnFailure($"the journal could not store {@event.GetType().Name} (sequence {sequenceNr}): {cause.Message}; nothing accepted is lost, "
            + "run the same command again to resume", JournalFailedExitCode);

    // A refused event (the journal is up but would not take it) was not stored and nothing followed from it; decisions
    // are made in order, so the run cannot skip it: it ends like a failed write, resumable.
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _machine.Stopping = true;
        EndOnFailure($"the journal refused {@event.GetType().Name} (sequence {sequenceNr}): {cause.Message}; nothing accepted is lost, "
            + "run the same command again to resume", JournalFailedExitCode);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        EndOnFailure($"the journal could not be read back: {reason.Message}; nothing was changed: once journal.db is readable "
            + "(or restored from a backup), the same command resumes the run", JournalFailedExitCode);

    // A restart would replay the journal but forget which evaluators and breeders registered, and the run would
    // stall. Ending it instead lets a fresh start (by hand or by systemd) rebuild everything from the journal.
    protected override void PreRestart(Exception reason, object message)
    {
        EndOnFailure($"the steward failed on {message?.GetType().Name ?? "a message"}: {reason.GetType().Name}: {reason.Message}; "
            + "nothing accepted is lost, run the same command again to resume", StewardFailedExitCode);
        base.PreRestart(reason, message);
    }

    private void EndOnFailure(string reason, int exitCode)
    {
        _end ??= new RunEnded("failed", reason, exitCode);
        Context.System.EventStream.Publish(new RunEnded("failed", reason, exitCode));
        try
        {
            WriteStatus(force: true, "failed", reason);
        }
        catch (IOException e)
        {
            // The disk that failed the journal may fail this too; the exit code and the console line still say why.
            _log.Warning("status.json not updated: {0}", e.Message);
        }
    }
}
