using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;

namespace EvolverActors.Actors.Steward;

/// <summary>
/// One per run (a cluster singleton): decides acceptance and keeps the run's ledger. An acceptance is made
/// durable in write-ahead order: the evaluator writes and fsyncs the child's file, then the steward persists
/// <see cref="OffspringAccepted"/>, then the member adopts. Acceptances are serialised (scores arriving while one is
/// in progress are stashed), so every decision compares against the current version.
/// </summary>
public sealed partial class StewardActor : ReceivePersistentActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EvolverRuntime _runtime;
    private readonly IActorRef _members;
    private readonly EvaluatorRoster _evaluators;
    private readonly HashSet<IActorRef> _breeders = [];
    private readonly Dictionary<string, int> _rescores = new(StringComparer.Ordinal);
    private readonly HashSet<int> _awaitingAdoption = [];
    private readonly Stopwatch _session = Stopwatch.StartNew();
    private StewardState _state = new();
    private OffspringScored? _accepting;

    /// <summary>The offspring whose decision event (accepted or rejected) is being persisted (Persist stashes the rest).</summary>
    private OffspringScored? _deciding;

    /// <summary>Rejections being persisted asynchronously, by event (reference identity), so a refused write is still decided.</summary>
    private readonly Dictionary<OffspringRejected, OffspringScored> _pendingRejections = new(ReferenceEqualityComparer.Instance);

    /// <summary>Failed evaluations being persisted, by event (reference identity), so a refused write still releases the offspring.</summary>
    private readonly Dictionary<OffspringEvaluationFailed, OffspringInfo> _pendingFailures = new(ReferenceEqualityComparer.Instance);
    private bool _stopping;

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
        PersistenceId = $"steward-{_runtime.RunId}";

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is StewardSnapshot snapshot)
            {
                _state = snapshot.State.Copy(); // the store's object stays as it was saved
            }
        });
        Recover<RunInitialized>(e => _state.Apply(e));
        Recover<OffspringAccepted>(e => _state.Apply(e));
        Recover<OffspringRejected>(e => _state.Apply(e));
        Recover<OffspringDropped>(e => _state.Apply(e));
        Recover<OffspringEvaluationFailed>(e => _state.Apply(e));
        Recover<RunFinished>(e => _state.Apply(e));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Adopting();
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    private RunSettings Settings => _runtime.Settings;

    /// <summary>After recovery: finished runs report; others make every member hold its ledger weights first.</summary>
    private void OnRecovered()
    {
        _sessionStartEvaluations = _state.Evaluations;
        if (_state.Finished)
        {
            _log.Info("run {0} already finished: {1}", _runtime.RunId, _state.FinishedReason);
            End("finished", _state.FinishedReason!, 0);
            return;
        }
        var weights = _state.Initialized ? _state.SlotWeights : [.. _runtime.InitialWeights];
        for (var slot = 0; slot < weights.Length; slot++)
        {
            _awaitingAdoption.Add(slot);
            _members.Tell(new AdoptWeights(slot, weights[slot], _state.Version));
        }
    }

    /// <summary>Phase 1: waiting for every member to hold its weights (a missing file stops the run here).</summary>
    private void Adopting()
    {
        Command<WeightsAdoptedAck>(ack =>
        {
            _awaitingAdoption.Remove(ack.Slot);
            if (_awaitingAdoption.Count == 0)
            {
                Become(Running);
                Stash.UnstashAll();
                Start();
            }
        });
        Command<AdoptionFailed>(failed => End("failed",
            $"slot {failed.Slot}: weights '{failed.WeightsId}' cannot be loaded: {failed.Problem}", 2));
        Command<StopRun>(m => End("stopped", m.Reason, 0));
        Command<GetRunProgress>(_ => Sender.Tell(Progress()));
        CommandAny(_ => Stash.Stash());
    }

    private void Start()
    {
        if (_state.Initialized)
        {
            Broadcast();
            return;
        }
        RequestInitialScore();
    }

    private LedgerView CurrentView() => _state.Initialized
        ? _state.View()
        : new LedgerView(0, [.. _runtime.InitialWeights], new double[_runtime.Slots], null, false);

    /// <summary>Asks one healthy evaluator for the initial scores: the next after <paramref name="after"/>, the one that just failed them.</summary>
    private void RequestInitialScore(IActorRef? after = null)
    {
        if (_evaluators.InitialScorer is not null || _state.Initialized || _stopping)
        {
            return;
        }
        if (_evaluators.NextScorer(after) is not { } evaluator)
        {
            return;
        }
        _evaluators.InitialScorer = evaluator;
        evaluator.Tell(new LedgerChanged(CurrentView()));
        evaluator.Tell(new ScorePopulation(0));
    }

    private void Broadcast()
    {
        var view = new LedgerChanged(CurrentView());
        foreach (var target in _evaluators.Healthy.Concat(_breeders))
        {
            target.Tell(view);
        }
    }

    private TimeSpan Elapsed => _session.Elapsed;

    private RunProgress Progress()
    {
        var rate = (_state.Evaluations - _sessionStartEvaluations) / Math.Max(1e-9, _session.Elapsed.TotalSeconds);
        double? eta = rate > 0 ? Math.Max(0, Settings.MaxEvaluations - _state.Evaluations) / rate : null;
        var state = _end?.State ?? (_state.Finished ? "finished" : _stopping ? "stopped" : "running");
        return new RunProgress(state, _state.Evaluations, _state.Accepted, _state.Rejected, _state.Dropped + _state.Failed, _state.BestDev(Settings.Mode),
            _state.PopulationScore, _state.Version, rate, eta, _state.FinishedReason ?? _end?.Reason, CurrentView(), _state.Failed);
    }

    private void End(string state, string reason, int exitCode)
    {
        _end = new RunEnded(state, reason, exitCode);
        WriteStatus(force: true, state, reason);
        Context.System.EventStream.Publish(_end);
    }

    /// <summary>The exit code of a run that ended because its journal failed (the run is resumable).</summary>
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
