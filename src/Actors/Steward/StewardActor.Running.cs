using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;

namespace EvolverActors.Actors.Steward;

/// <summary>The steward's running phase: registrations, scores, in-order decisions, snapshots, budgets.</summary>
public sealed partial class StewardActor
{
    /// <summary>A population snapshot finished (null reason) or failed, off the actor's thread.</summary>
    private sealed record SnapshotWritten(long Decided, string? Failure);

    private bool _snapshotting;

    /// <summary>Paused by the operator (docs/architecture.md §6): breeders hand out no work; not persisted.</summary>
    private bool _paused;

    /// <summary>The sequence number of the steward snapshot saved before the newest one (0: none yet this session).</summary>
    private long _previousSnapshot;

    /// <summary>A CheckBudget is on its way: outcomes offered meanwhile are decided together, in one journal write.</summary>
    private bool _decideScheduled;

    /// <summary>
    /// Decides after the messages already in the mailbox (those stashed while the last batch was stored come first), so
    /// one journal round trip stores every decision that became due meanwhile instead of one write per score.
    /// </summary>
    private void DecideSoon()
    {
        if (!_decideScheduled)
        {
            _decideScheduled = true;
            Self.Tell(CheckBudget.Instance);
        }
    }

    private void Running()
    {
        Command<RegisterEvaluator>(m =>
        {
            if (!_evaluators.Register(m.Evaluator, m.Name))
            {
                return; // retired this session: it takes no more work
            }
            Context.Watch(m.Evaluator);
            if (Ledger.Initialized)
            {
                m.Evaluator.Tell(new LedgerChanged(CurrentView(), KnownRecipes()));
            }
            RequestInitialScore();
        });
        Command<EvaluatorRetired>(m =>
        {
            _evaluators.Retire(m.Evaluator, m.Reason);
            EvaluatorGone(m.Evaluator);
        });
        MembershipCommands();
        Command<PopulationScoreFailed>(OnPopulationScoreFailed);
        Command<RegisterBreeder>(m =>
        {
            _breeders.Add(m.Breeder);
            if (_paused)
            {
                m.Breeder.Tell(new PauseBreeding(true));
            }
            if (Ledger.Initialized)
            {
                m.Breeder.Tell(BreedingStart());
            }
        });
        Command<PopulationScored>(OnPopulationScored);
        Command<OffspringScored>(m =>
        {
            if (_evaluators.IsGone(m.EvaluatorRef))
            {
                return; // scored by an evaluator since retired or stopped: the breeder has re-issued it to the others
            }
            Perform(_machine.Offer(m));
            DecideSoon();
        });
        Command<OffspringLost>(m =>
        {
            Perform(_machine.Offer(m));
            DecideSoon();
        });
        Command<WeightsAdoptedAck>(_ => { });
        Command<AdoptionFailed>(failed =>
        {
            if (failed.WeightsId != Ledger.SlotWeights[failed.Slot])
            {
                // A member behind on its adoptions asked for weights its slot has replaced since (and which no snapshot or
                // kept recipe holds any more): it adopts the current ones next, nothing is lost.
                _log.Debug("slot {0}: superseded weights {1} not obtained: {2}", failed.Slot, failed.WeightsId, failed.Problem);
                return;
            }
            End("failed", $"slot {failed.Slot}: weights '{failed.WeightsId}' cannot be loaded: {failed.Problem}", 2);
        });
        Command<Terminated>(t =>
        {
            _evaluators.Remove(t.ActorRef);
            EvaluatorGone(t.ActorRef);
        });
        Command<CheckBudget>(_ =>
        {
            _decideScheduled = false;
            Decide();
        });
        Command<GetRunProgress>(_ => Sender.Tell(Progress()));
        Command<FlushStatus>(_ => WriteStatus(force: true));
        Command<RefreshStatus>(_ => WriteStatus(force: true));
        Command<GetRecentAcceptances>(_ => Sender.Tell(new RecentAcceptances([.. _recent])));
        Command<StopRun>(m => Stop(m.Reason));
        Command<PauseRun>(m =>
        {
            if (_paused != m.Paused)
            {
                _paused = m.Paused;
                Tell(_breeders, new PauseBreeding(m.Paused));
                _log.Info("run {0} {1}", _runtime.RunId, m.Paused ? "paused" : "resumed");
                WriteStatus(force: true);
            }
            Sender.Tell(Progress());
        });
        Command<ChangeBudget>(m => Persist(new BudgetChanged(m.MaxEvaluations, m.MaxWallTimeSeconds, m.TargetScore, m.Patience,
            BudgetValues.Of(_runtime.Settings), DateTime.UtcNow), e =>
        {
            _machine.Apply(e);
            _log.Info("run {0}: budget changed ({1})", _runtime.RunId, e);
            Tell(_breeders, BreedingStart()); // a larger budget lets the breeders issue further
            WriteStatus(force: true);
            Sender.Tell(Progress());
            DecideSoon(); // a smaller one may end the run now
        }));
        Command<SnapshotWritten>(OnSnapshotWritten);
        // Events are kept after a snapshot: they are the lineage record (snapshots only shorten recovery).
        Command<SaveSnapshotSuccess>(OnSnapshotSaved);
        Command<SaveSnapshotFailure>(f => _log.Warning("steward snapshot failed: {0}", f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("collecting old steward snapshots failed: {0}", f.Cause.Message));
    }

    /// <summary>
    /// Keeps the newest two steward snapshots (recovery reads the newest; the one before stands in if it cannot be read)
    /// and deletes the older ones, so the snapshot table stays bounded over a run of days (docs/architecture.md §3).
    /// </summary>
    private void OnSnapshotSaved(SaveSnapshotSuccess saved)
    {
        if (_previousSnapshot > 0)
        {
            DeleteSnapshots(new SnapshotSelectionCriteria(_previousSnapshot - 1));
        }
        _previousSnapshot = saved.Metadata.SequenceNr;
    }

    private void OnPopulationScored(PopulationScored m)
    {
        if (Ledger.Initialized)
        {
            return;
        }
        _evaluators.InitialScorer = null;
        var evaluations = Settings.Mode == FitnessMode.Merged ? 1 : _runtime.Slots;
        Persist(new RunInitialized([.. _runtime.InitialWeights], m.SlotScores, m.PopulationScore, evaluations, DateTime.UtcNow, m.SlotGuards, m.PopulationGuard), e =>
        {
            _machine.Apply(e);
            _log.Info("run {0} initialised: best dev {1:F4}", _runtime.RunId, Ledger.BestDev(Settings.Mode));
            Broadcast();
            foreach (var breeder in _breeders)
            {
                breeder.Tell(BreedingStart());
            }
            WriteStatus(force: true);
            Decide();
        });
    }

    /// <summary>The evaluator asked could not score the population: ask the next healthy one (the failing one counted it).</summary>
    private void OnPopulationScoreFailed(PopulationScoreFailed m)
    {
        if (Ledger.Initialized || !m.EvaluatorRef.Equals(_evaluators.InitialScorer))
        {
            return;
        }
        _log.Info("{0} could not score the initial population ({1}): asking the next evaluator", m.Evaluator, m.Reason); // it warned already
        _evaluators.InitialScorer = null;
        RequestInitialScore(after: m.EvaluatorRef);
    }

    /// <summary>
    /// Decides whatever is due, in sequence order: the events are stored in one batch, and each decision's effects
    /// happen once its event is applied. Then the stopping rules are looked at.
    /// </summary>
    private static int _traceFirstDecision;

    private void Decide()
    {
        var steps = _machine.Drain(DateTime.UtcNow);
        var stored = steps.Where(s => s.Event is not null).ToList();
        var trailing = steps.Where(s => s.Event is null).SelectMany(s => s.Effects).ToList();
        if (stored.Count == 0)
        {
            Perform(trailing);
            CheckStop();
            return;
        }
        var done = 0;
        var writing = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAll(stored.Select(s => s.Event!), e =>
        {
            if (done == 0)
            {
                _runtime.Metrics?.JournalWriteTook(System.Diagnostics.Stopwatch.GetElapsedTime(writing));
            }
            var step = stored[done++];
            _machine.Apply(e);
            Perform(step.Effects);
            if (done < stored.Count)
            {
                return;
            }
            Perform(trailing);
            EvolverActors.Tensors.Diagnostics.StartupTrace.MarkFirst("first decisions stored", ref _traceFirstDecision);
            WriteStatus(force: false);
            // Checked as a command of its own: more outcomes may be due, and the stopping rules may hold now.
            DecideSoon();
        });
    }

    private void Perform(IEnumerable<StewardEffect> effects)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case NotifyDecided n:
                    var decided = new OffspringDecided(n.Offspring.Id, n.Offspring.Sequence, n.Accepted, CurrentView(), n.Decided, n.Score);
                    n.Evaluator?.Tell(decided);
                    Tell(_breeders, decided);
                    break;
                case ReleaseCopy r:
                    r.Evaluator.Tell(new OffspringDecided(r.Offspring.Id, r.Offspring.Sequence, false, CurrentView(), Decided: false));
                    break;
                case AskRescore r:
                    r.Evaluator.Tell(new RescoreOffspring(r.Offspring.Id, r.Population));
                    break;
                case Adopt a:
                    var e = a.Accepted;
                    Remember(e);
                    _runtime.Book.Add(e.WeightsId, e.Recipe, e.ContentHash);
                    if (e.Recipe.IsCoefficients)
                    {
                        _log.Info("version {0}: best merge := {1} (dev {2:F4}, was {3:F4}; {4})", e.Version, e.WeightsId, e.Score, e.PreviousScore, e.Evaluator);
                    }
                    else
                    {
                        _members.Tell(new AdoptWeights(e.Slot, e.WeightsId, e.Version, [new KnownRecipe(e.WeightsId, e.Recipe, e.ContentHash)]));
                        _log.Info("version {0}: slot {1} := {2} (dev {3:F4}, was {4:F4}; {5})", e.Version, e.Slot, e.WeightsId, e.Score, e.PreviousScore, e.Evaluator);
                    }
                    if (Ledger.Accepted % Settings.SnapshotEvery == 0)
                    {
                        SaveSnapshot(new StewardSnapshot(Ledger.Copy()));
                    }
                    if (Ledger.Accepted % Settings.PopulationSnapshotEvery == 0)
                    {
                        SnapshotPopulationInBackground();
                    }
                    Broadcast(new KnownRecipe(e.WeightsId, e.Recipe, e.ContentHash));
                    break;
                default:
                    throw new InvalidOperationException($"unknown steward effect {effect.GetType().Name}");
            }
        }
    }

    private void CheckStop()
    {
        if (Ledger.Finished || _machine.Stopping || !Ledger.Initialized || _machine.Rescoring is not null || _machine.ChangingMembership)
        {
            return;
        }
        if (Ledger.StopReason(Settings, _session.Elapsed) is { } reason)
        {
            Persist(new RunFinished(reason, DateTime.UtcNow, BudgetValues.Of(Settings)), e =>
            {
                _machine.Apply(e);
                Perform(_machine.AbandonWaiting());
                SaveSnapshot(new StewardSnapshot(Ledger.Copy()));
                Broadcast();
                _log.Info("run {0} finished: {1}", _runtime.RunId, reason);
                if (SnapshotPopulationNow() is { } failure)
                {
                    EndOnFailure(failure, JournalFailedExitCode);
                    return;
                }
                End("finished", reason, 0);
            });
        }
    }

    /// <summary>Graceful stop: no new work; offspring not yet decided are abandoned (never accepted); the run stays resumable.</summary>
    private void Stop(string reason)
    {
        if (_machine.Stopping)
        {
            return;
        }
        _machine.Stopping = true;
        RefusePending("the run is stopping");
        Tell(_breeders, new StopBreeding(reason));
        Perform(_machine.AbandonWaiting());
        SaveSnapshot(new StewardSnapshot(Ledger.Copy()));
        if (SnapshotPopulationNow() is { } failure)
        {
            EndOnFailure(failure, JournalFailedExitCode);
            return;
        }
        End("stopped", reason, 0);
    }

    /// <summary>
    /// An evaluator retired or stopped: the initial scoring goes to another (its offspring are re-issued by the breeder),
    /// and with no healthy evaluator left the run ends (status 5) instead of waiting for work nobody can do.
    /// </summary>
    private void EvaluatorGone(IActorRef evaluator)
    {
        RequestInitialScore(after: evaluator);
        MembershipScorerGone(evaluator);
        if (_machine.Stopping || Ledger.Finished || _evaluators.NoneHealthyReason() is not { } reason)
        {
            return;
        }
        _machine.Stopping = true;
        RefusePending(reason);
        Tell(_breeders, new StopBreeding(reason));
        Perform(_machine.AbandonWaiting());
        SaveSnapshot(new StewardSnapshot(Ledger.Copy()));
        End("failed", reason, NoHealthyEvaluatorExitCode);
    }

    /// <summary>Every K acceptances: a population snapshot, written off this thread (one at a time; a skipped one is caught up by the next).</summary>
    private void SnapshotPopulationInBackground()
    {
        if (_runtime.Snapshots is not { } snapshots || _snapshotting)
        {
            return;
        }
        _snapshotting = true;
        var (decided, version, members, keep) = SnapshotContent();
        var resident = _runtime.Resident;
        Task.Run(() =>
        {
            snapshots.Write(decided, version, members, keep, resident.Acquire);
            return new SnapshotWritten(decided, null);
        }).ContinueWith(t => t.IsCompletedSuccessfully
            ? t.Result
            : new SnapshotWritten(decided, t.Exception?.GetBaseException().Message ?? "cancelled"), TaskScheduler.Default).PipeTo(Self);
    }

    private void OnSnapshotWritten(SnapshotWritten m)
    {
        _snapshotting = false;
        if (m.Failure is null)
        {
            _log.Info("population snapshot after {0} decisions written", m.Decided);
            // Recorded, so the ledger (and this node's book) can forget recipes no rebuild needs any more.
            Persist(new PopulationSnapshotted(m.Decided, Ledger.Version, DateTime.UtcNow), e =>
            {
                _machine.Apply(e);
                // Offspring not decided yet (in flight) keep theirs.
                _runtime.Book.RemoveWhere((id, recipe) => recipe.Sequence < Ledger.NextSequence && !Ledger.Recipes.ContainsKey(id));
            });
            return;
        }
        // Disk full or failing: the journal may go next. Stop now, resumable, rather than run on without a bound on replay.
        _machine.Stopping = true;
        Tell(_breeders, new StopBreeding("snapshot storage failed"));
        Perform(_machine.AbandonWaiting());
        EndOnFailure($"the population snapshot could not be written: {m.Failure}; nothing accepted is lost (the journal has every "
            + "recipe), free space and run the same command again to resume", JournalFailedExitCode);
    }

    /// <summary>A snapshot at a clean stop, on this thread (the run is ending); the failure, or null.</summary>
    private string? SnapshotPopulationNow()
    {
        if (_runtime.Snapshots is not { } snapshots || !Ledger.Initialized || Ledger.Accepted == 0)
        {
            return null;
        }
        try
        {
            var (decided, version, members, keep) = SnapshotContent();
            snapshots.Write(decided, version, members, keep, _runtime.Resident.Acquire);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Tensors.EvolverException)
        {
            return $"the population snapshot could not be written: {e.Message}; nothing accepted is lost (the journal has every recipe)";
        }
    }

    /// <summary>What a snapshot keeps: the pinned ids that are not starting checkpoints (those are referenced in place).</summary>
    private (long Decided, long Version, string[] Members, string[] Keep) SnapshotContent()
    {
        var starting = _runtime.InitialWeights.ToHashSet(StringComparer.Ordinal);
        return (Ledger.NextSequence, Ledger.Version, [.. Ledger.SlotWeights], [.. Ledger.PinnedIds().Where(id => !starting.Contains(id))]);
    }

    private static void Tell(IEnumerable<IActorRef> targets, object message)
    {
        foreach (var target in targets)
        {
            target.Tell(message);
        }
    }

    private static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(200);

    private sealed record FlushStatus
    {
        public static FlushStatus Instance { get; } = new();
    }

    /// <summary>status.json for `evolver status` from another process; at most a few writes a second.</summary>
    private void WriteStatus(bool force, string? state = null, string? reason = null)
    {
        if (!force && DateTime.UtcNow - _lastStatus < StatusInterval)
        {
            // Written a moment later all the same, so that status.json and the metrics catch up with the last decisions.
            if (!Timers.IsTimerActive(FlushStatus.Instance))
            {
                Timers.StartSingleTimer(FlushStatus.Instance, FlushStatus.Instance, StatusInterval);
            }
            return;
        }
        _lastStatus = DateTime.UtcNow;
        _runtime.Metrics?.Publish(Ledger, Settings); // at the same moments as status.json, so the two agree
        if (_runtime.Directory is null)
        {
            return;
        }
        var p = Progress();
        _runtime.Directory.WriteStatus(new RunStatusView(_runtime.RunId, state ?? p.State, p.Evaluations, p.Accepted, p.Rejected,
            p.BestDev, p.PopulationScore, p.Version, p.EvaluationsPerSecond, p.EtaSeconds, _startedUtc, DateTime.UtcNow,
            Environment.ProcessId, reason ?? p.Reason, Settings.Mode.ToString().ToLowerInvariant(),
            Settings.Schedule == Schedule.SteadyState ? "steady-state" : "generational", p.Failed, Members: Ledger.Initialized ? Ledger.ActiveCount : _runtime.Slots,
            Http: _runtime.HttpAddress));
    }
}
