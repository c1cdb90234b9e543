using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;

namespace EvolverActors.Actors.Steward;

/// <summary>The steward's running phase: registrations, scores, the write-ahead acceptance, budgets.</summary>
public sealed partial class StewardActor
{
    private void Running()
    {
        Command<RegisterEvaluator>(m =>
        {
            if (!_evaluators.Register(m.Evaluator, m.Name))
            {
                return; // retired this session: it takes no more work
            }
            Context.Watch(m.Evaluator);
            if (_state.Initialized)
            {
                m.Evaluator.Tell(new LedgerChanged(CurrentView()));
            }
            RequestInitialScore();
        });
        Command<EvaluatorRetired>(m =>
        {
            _evaluators.Retire(m.Evaluator, m.Reason);
            EvaluatorGone(m.Evaluator, "its evaluator was retired before writing the file");
        });
        Command<PopulationScoreFailed>(OnPopulationScoreFailed);
        Command<RegisterBreeder>(m =>
        {
            _breeders.Add(m.Breeder);
            if (_state.Initialized)
            {
                m.Breeder.Tell(new LedgerChanged(CurrentView()));
            }
        });
        Command<PopulationScored>(OnPopulationScored);
        Command<OffspringScored>(OnScored);
        Command<OffspringPersisted>(OnPersisted);
        Command<OffspringPersistFailed>(m => Reject(_accepting!, $"file could not be written: {m.Reason}"));
        Command<OffspringLost>(OnLost);
        Command<WeightsAdoptedAck>(_ => { });
        Command<AdoptionFailed>(failed => End("failed", $"slot {failed.Slot}: weights '{failed.WeightsId}' cannot be loaded: {failed.Problem}", 2));
        Command<Terminated>(OnTerminated);
        Command<CheckBudget>(_ => CheckStop());
        Command<GetRunProgress>(_ => Sender.Tell(Progress()));
        Command<StopRun>(m => Stop(m.Reason));
        // Events are kept after a snapshot: they are the lineage record (snapshots only shorten recovery).
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning("steward snapshot failed: {0}", f.Cause.Message));
    }

    private void OnPopulationScored(PopulationScored m)
    {
        if (_state.Initialized)
        {
            return;
        }
        _evaluators.InitialScorer = null;
        var evaluations = Settings.Mode == FitnessMode.Merged ? 1 : _runtime.Slots;
        Persist(new RunInitialized([.. _runtime.InitialWeights], m.SlotScores, m.PopulationScore, evaluations, DateTime.UtcNow), e =>
        {
            _state.Apply(e);
            _log.Info("run {0} initialised: best dev {1:F4}", _runtime.RunId, _state.BestDev(Settings.Mode));
            Broadcast();
            WriteStatus(force: true);
            CheckStop();
        });
    }

    /// <summary>The evaluator asked could not score the population: ask the next healthy one (the failing one counted it).</summary>
    private void OnPopulationScoreFailed(PopulationScoreFailed m)
    {
        if (_state.Initialized || !m.EvaluatorRef.Equals(_evaluators.InitialScorer))
        {
            return;
        }
        _log.Info("{0} could not score the initial population ({1}): asking the next evaluator", m.Evaluator, m.Reason); // it warned already
        _evaluators.InitialScorer = null;
        RequestInitialScore(after: m.EvaluatorRef);
    }

    /// <summary>
    /// An offspring failed on every retry: it counts as one (failed) evaluation, so a run whose evaluators keep failing
    /// still reaches its budget. Decided in turn with the scores (held while an acceptance is under way).
    /// </summary>
    private void OnLost(OffspringLost m)
    {
        if (_accepting is not null)
        {
            Stash.Stash();
            return;
        }
        var decided = new OffspringDecided(m.Offspring.Id, m.Offspring.Generation, false, CurrentView());
        if (_stopping || _state.RecordFailure(Settings, m.Offspring, m.Reason, DateTime.UtcNow) is not { } failed)
        {
            // Stopping, finished or over budget: abandoned like a late score.
            Tell(_breeders, decided);
            Self.Tell(CheckBudget.Instance);
            return;
        }
        _pendingFailures[failed] = m.Offspring;
        Persist(failed, e =>
        {
            _pendingFailures.Remove(e);
            _state.Apply(e);
            Tell(_breeders, new OffspringDecided(m.Offspring.Id, m.Offspring.Generation, false, CurrentView()));
            WriteStatus(force: false);
            Self.Tell(CheckBudget.Instance);
        });
    }

    private void OnScored(OffspringScored m)
    {
        if (_evaluators.IsGone(m.EvaluatorRef))
        {
            // Scored by an evaluator since retired or stopped: the breeder has re-issued the offspring to the others.
            return;
        }
        if (_accepting is not null)
        {
            Stash.Stash(); // one acceptance at a time: decide this one against the version that results
            return;
        }
        // A re-score finishes a decision already under way, so it is let through even at the budget.
        var overBudget = _state.Evaluations >= Settings.MaxEvaluations && !_rescores.ContainsKey(m.Offspring.Id);
        if (_state.Finished || _stopping || overBudget)
        {
            // Stopping, or over budget (results still in flight when the last counted one was decided): abandoned.
            m.EvaluatorRef.Tell(new OffspringDecided(m.Offspring.Id, m.Offspring.Generation, false, CurrentView()));
            Tell(_breeders, new OffspringDecided(m.Offspring.Id, m.Offspring.Generation, false, CurrentView()));
            if (overBudget)
            {
                Self.Tell(CheckBudget.Instance); // the run may be waiting for exactly this to finish
            }
            return;
        }
        _state.Evaluations++;
        var decision = _state.Decide(Settings.Mode, m.Offspring, m.Score, m.ScoredAtVersion, _rescores.GetValueOrDefault(m.Offspring.Id));
        switch (decision.Verdict)
        {
            case Verdict.Accept:
                _accepting = m;
                m.EvaluatorRef.Tell(new PersistOffspring(m.Offspring.Id));
                break;
            case Verdict.Rescore:
                _rescores[m.Offspring.Id] = _rescores.GetValueOrDefault(m.Offspring.Id) + 1;
                m.EvaluatorRef.Tell(new RescoreOffspring(m.Offspring.Id, _state.Version));
                break;
            default:
                if (!double.IsFinite(m.Score))
                {
                    _log.Warning("offspring {0} from {1}: {2}; rejected", m.Offspring.Id, m.Evaluator, decision.Reason);
                }
                Reject(m, decision.Reason);
                break;
        }
    }

    private void Reject(OffspringScored m, string reason)
    {
        var o = m.Offspring;
        var rejected = new OffspringRejected(o.Target, o.Operator, m.Score, m.ScoredAtVersion, reason, _state.Evaluations);
        if (_accepting?.Offspring.Id == o.Id)
        {
            _deciding = m;
            Persist(rejected, e =>
            {
                _state.Apply(e);
                FinishDecision(m, accepted: false);
            });
            return;
        }
        // A rejection changes no weights, so it need not hold up the next decision: PersistAsync lets the
        // journal batch rejections. The evaluator and breeder hear of it once it is stored.
        _pendingRejections[rejected] = m;
        PersistAsync(rejected, e =>
        {
            _pendingRejections.Remove(e);
            _state.Apply(e);
            FinishDecision(m, accepted: false);
        });
    }

    /// <summary>The child's file is durable: persist the acceptance, then let the member adopt.</summary>
    private void OnPersisted(OffspringPersisted m)
    {
        if (_accepting is null || _accepting.Offspring.Id != m.OffspringId)
        {
            return;
        }
        var scored = _accepting;
        var o = scored.Offspring;
        var previous = Settings.Mode == FitnessMode.Merged ? _state.PopulationScore ?? double.NaN : _state.SlotScores[o.Target];
        var accepted = new OffspringAccepted(_state.Version + 1, o.Target, o.Id, _state.SlotWeights[o.Target], o.Parents, o.ParentWeights,
            o.Operator, o.F, o.CR, o.Crossover, o.JRand, o.Granularity, o.Seed, scored.Score, previous, _state.Evaluations, scored.Evaluator, DateTime.UtcNow);
        _deciding = scored;
        Persist(accepted, e =>
        {
            _state.Apply(e);
            _members.Tell(new AdoptWeights(e.Slot, e.WeightsId, e.Version));
            _log.Info("version {0}: slot {1} := {2} (dev {3:F4}, was {4:F4}; {5})", e.Version, e.Slot, e.WeightsId, e.Score, e.PreviousScore, e.Evaluator);
            if (_state.Accepted % Settings.SnapshotEvery == 0)
            {
                SaveSnapshot(new StewardSnapshot(_state.Copy()));
            }
            Broadcast();
            FinishDecision(scored, accepted: true);
        });
    }

    private void FinishDecision(OffspringScored m, bool accepted)
    {
        if (ReferenceEquals(_deciding, m))
        {
            _deciding = null;
        }
        _rescores.Remove(m.Offspring.Id);
        var decided = new OffspringDecided(m.Offspring.Id, m.Offspring.Generation, accepted, CurrentView());
        m.EvaluatorRef.Tell(decided);
        Tell(_breeders, decided);
        if (_accepting?.Offspring.Id == m.Offspring.Id)
        {
            _accepting = null;
            Stash.UnstashAll();
        }
        WriteStatus(force: false);
        // Checked as a command of its own: this may run inside a PersistAsync handler, where a nested Persist
        // would leave later commands stashed.
        Self.Tell(CheckBudget.Instance);
    }

    /// <summary>
    /// The journal refused a decision event (it is not stored, and the actor goes on): the offspring is told it was
    /// not accepted, without a record, so nothing unrecorded is ever adopted and the acceptance in progress does not
    /// hold every later score in the stash.
    /// </summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        if (@event is OffspringRejected rejected && _pendingRejections.Remove(rejected, out var pending))
        {
            FinishDecision(pending, accepted: false);
            return;
        }
        if (@event is OffspringEvaluationFailed failed && _pendingFailures.Remove(failed, out var lost))
        {
            Tell(_breeders, new OffspringDecided(lost.Id, lost.Generation, false, CurrentView()));
            return;
        }
        if (@event is OffspringAccepted or OffspringRejected && _deciding is { } m)
        {
            FinishDecision(m, accepted: false);
        }
    }

    private void CheckStop()
    {
        if (_state.Finished || _stopping || !_state.Initialized || _accepting is not null)
        {
            return;
        }
        if (_state.StopReason(Settings, Elapsed) is { } reason)
        {
            Persist(new RunFinished(reason, DateTime.UtcNow), e =>
            {
                _state.Apply(e);
                SaveSnapshot(new StewardSnapshot(_state.Copy()));
                Broadcast();
                _log.Info("run {0} finished: {1}", _runtime.RunId, reason);
                End("finished", reason, 0);
            });
        }
    }

    /// <summary>Graceful stop: no new work; in-flight offspring are abandoned (never accepted); the run stays resumable.</summary>
    private void Stop(string reason)
    {
        _stopping = true;
        Tell(_breeders, new StopBreeding(reason));
        if (_accepting is null)
        {
            SaveSnapshot(new StewardSnapshot(_state.Copy()));
            End("stopped", reason, 0);
            return;
        }
        // Let the acceptance in progress complete (its file may already be written); then stop.
        Timers.StartSingleTimer("stop", new StopRun(reason), TimeSpan.FromMilliseconds(50));
    }

    private void OnTerminated(Terminated terminated)
    {
        _evaluators.Remove(terminated.ActorRef);
        EvaluatorGone(terminated.ActorRef, "its evaluator stopped before writing the file");
    }

    /// <summary>
    /// An evaluator retired or stopped: its acceptance in progress is rejected, the initial scoring goes to another,
    /// and with no healthy evaluator left the run ends (status 5) instead of waiting for work nobody can do.
    /// </summary>
    private void EvaluatorGone(IActorRef evaluator, string rejection)
    {
        if (_accepting?.EvaluatorRef.Equals(evaluator) == true && !ReferenceEquals(_deciding, _accepting))
        {
            Reject(_accepting, rejection);
        }
        RequestInitialScore(after: evaluator);
        if (_stopping || _state.Finished || _evaluators.NoneHealthyReason() is not { } reason)
        {
            return;
        }
        _stopping = true;
        Tell(_breeders, new StopBreeding(reason));
        SaveSnapshot(new StewardSnapshot(_state.Copy()));
        End("failed", reason, NoHealthyEvaluatorExitCode);
    }

    private static void Tell(IEnumerable<IActorRef> targets, object message)
    {
        foreach (var target in targets)
        {
            target.Tell(message);
        }
    }

    /// <summary>status.json for `evolver status` from another process; at most a few writes a second.</summary>
    private void WriteStatus(bool force, string? state = null, string? reason = null)
    {
        if (_runtime.Directory is null || (!force && DateTime.UtcNow - _lastStatus < TimeSpan.FromMilliseconds(200)))
        {
            return;
        }
        _lastStatus = DateTime.UtcNow;
        var p = Progress();
        _runtime.Directory.WriteStatus(new RunStatusView(_runtime.RunId, state ?? p.State, p.Evaluations, p.Accepted, p.Rejected,
            p.BestDev, p.PopulationScore, p.Version, p.EvaluationsPerSecond, p.EtaSeconds, _startedUtc, DateTime.UtcNow,
            Environment.ProcessId, reason ?? p.Reason, Settings.Mode.ToString().ToLowerInvariant(),
            Settings.Schedule == Schedule.SteadyState ? "steady-state" : "generational", p.Failed));
    }
}
