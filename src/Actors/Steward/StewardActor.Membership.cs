using Akka.Actor;
using Akka.Event;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Operators;

namespace EvolverActors.Actors.Steward;

/// <summary>
/// Admission and retirement while the run runs (docs/architecture.md §6, "Admission and retirement"). One change at a
/// time, and no decision while it is made: the proposed population is scored by an evaluator (the new member's dev score
/// in individual mode, S in merged mode), then the event is stored, and only then do members, evaluators and breeders
/// see the new population, like an acceptance. An admitted member's weights are in a population snapshot first.
/// </summary>
public sealed partial class StewardActor
{
    /// <summary>An admission or retirement waiting for its scores: the population it makes, the event to store, and who asked.</summary>
    private sealed record PendingChange(LedgerView Proposed, int Slot, Func<ProposedPopulationScored?, IMembershipChange> Event, IActorRef ReplyTo,
        IActorRef? Scorer);

    private PendingChange? _pendingChange;

    private void MembershipCommands()
    {
        Command<AdmitMember>(Admit);
        Command<RetireMember>(Retire);
        Command<ProposedPopulationScored>(m =>
        {
            if (_pendingChange is not { } pending || m.Version != pending.Proposed.Version)
            {
                return;
            }
            // A NaN would not even be stored (JSON has none), and nothing can be compared with it.
            if (!double.IsFinite(m.SlotScore) || m.PopulationScore is { } s && !double.IsFinite(s))
            {
                RefusePending($"{m.Evaluator} scored the population with the change {m.PopulationScore ?? m.SlotScore}: not a finite number");
                return;
            }
            StoreChange(pending, m);
        });
        Command<ProposedPopulationScoreFailed>(m =>
        {
            if (_pendingChange is { } pending && m.Version == pending.Proposed.Version)
            {
                RefusePending($"{m.Evaluator} could not score the population with the change: {m.Reason}");
            }
        });
    }

    private void Admit(AdmitMember m)
    {
        if (MembershipRefusal("admit") is { } refusal)
        {
            Sender.Tell(MembershipAnswer.Refusal(refusal, Progress()));
            return;
        }
        var existing = Enumerable.Range(0, Ledger.SlotWeights.Length)
            .FirstOrDefault(s => !Ledger.IsRetired(s) && (Ledger.SlotWeights[s] == m.WeightsId || Ledger.SlotWeights[s] == m.StartingId), -1);
        if (existing >= 0)
        {
            Sender.Tell(MembershipAnswer.Refusal($"these weights are slot {existing} of the population already", Progress()));
            return;
        }
        if (StatisticsNeeded() is { } kind && m.Statistics is null)
        {
            Sender.Tell(MembershipAnswer.Refusal($"merge method '{Settings.MergeMethod}' needs the new member's {kind} statistics", Progress()));
            return;
        }
        if (_runtime.Snapshots is not { } snapshots)
        {
            Sender.Tell(MembershipAnswer.Refusal("this run keeps no population snapshots, where an admitted member's weights are kept", Progress()));
            return;
        }
        var slot = Ledger.SlotWeights.Length;
        var view = Ledger.View();
        var proposed = view with
        {
            Version = Ledger.Version + 1,
            SlotWeights = [.. view.SlotWeights, m.WeightsId],
            SlotScores = [.. view.SlotScores, double.NaN],
            Statistics = m.Statistics is null && view.Statistics is null ? null : [.. view.Statistics ?? new string?[slot], m.Statistics],
        };
        try
        {
            // Durable before the event names them: a snapshot keeps the new member's weights (every node finds them there).
            var starting = _runtime.InitialWeights.ToHashSet(StringComparer.Ordinal);
            snapshots.Write(Ledger.NextSequence, proposed.Version, proposed.SlotWeights,
                [.. Ledger.PinnedIds().Append(m.WeightsId).Concat(m.Statistics is null ? [] : [m.Statistics]).Where(id => !starting.Contains(id))],
                _runtime.Resident.Acquire);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Tensors.EvolverException)
        {
            Sender.Tell(MembershipAnswer.Refusal($"the new member's weights could not be kept in a population snapshot: {e.Message}", Progress()));
            return;
        }
        ProposeChange(new PendingChange(proposed, slot, scored => new MemberAdmitted(slot, m.WeightsId, m.Name, m.Source, m.ContentHash,
            scored!.SlotScore, scored.PopulationScore, proposed.Version, DateTime.UtcNow, m.Statistics), Sender, null));
    }

    private void Retire(RetireMember m)
    {
        if (MembershipRefusal("retire") is { } refusal)
        {
            Sender.Tell(MembershipAnswer.Refusal(refusal, Progress()));
            return;
        }
        if (m.Slot < 0 || m.Slot >= Ledger.SlotWeights.Length)
        {
            Sender.Tell(MembershipAnswer.Refusal($"slot {m.Slot} is not a slot of this run (0 to {Ledger.SlotWeights.Length - 1})", Progress()));
            return;
        }
        if (Ledger.IsRetired(m.Slot))
        {
            Sender.Tell(MembershipAnswer.Refusal($"slot {m.Slot} was retired already", Progress()));
            return;
        }
        var minimum = OperatorRegistry.Get(_runtime.Settings.Operator, _runtime.Settings.OperatorParameters).MinimumPopulation;
        if (Ledger.ActiveCount - 1 < minimum)
        {
            Sender.Tell(MembershipAnswer.Refusal(
                $"the population would have {Ledger.ActiveCount - 1} members; operator '{_runtime.Settings.Operator}' needs at least {minimum}", Progress()));
            return;
        }
        var view = Ledger.View();
        var proposed = view with { Version = Ledger.Version + 1, Retired = [.. (view.Retired ?? []).Append(m.Slot).Order()] };
        var weights = Ledger.SlotWeights[m.Slot];
        ProposeChange(new PendingChange(proposed, m.Slot, scored => new MemberRetired(m.Slot, weights, m.Reason, scored?.PopulationScore, proposed.Version,
            DateTime.UtcNow), Sender, null));
    }

    /// <summary>Why no membership change can be made now, or null.</summary>
    private string? MembershipRefusal(string verb)
    {
        if (_pendingChange is not null)
        {
            return "another admission or retirement is in progress; try again in a moment";
        }
        if (Ledger.Finished || _machine.Stopping || _end is not null)
        {
            return "the run has ended";
        }
        if (!Ledger.Initialized)
        {
            return "the run has not scored its starting population yet; try again in a moment";
        }
        if (Settings.Schedule == Schedule.Generational)
        {
            return $"cannot {verb} in a generational run (its generations are one offspring per slot); use schedule = steady-state";
        }
        if (Settings.Guard.Enabled)
        {
            return $"cannot {verb} in a run with a guard (acceptance.guard-fraction): the guard scores of the changed population are not measured";
        }
        if (Settings.Search.Enabled)
        {
            return $"cannot {verb} in a coefficient search (search.method): its candidates have one coefficient per member, so the search would start over; start a new run";
        }
        return null;
    }

    /// <summary>The statistics every member of a merged fisher or regmean run has ("Fisher", "Gram"), or null.</summary>
    private string? StatisticsNeeded() => Settings.Mode != FitnessMode.Merged ? null : Settings.MergeMethod.ToLowerInvariant() switch
    {
        FisherMerge.MethodName => "Fisher",
        RegMeanMerge.MethodName => "Gram",
        _ => null,
    };

    /// <summary>Holds decisions and asks an evaluator for the proposed population's scores (individual retirement needs none).</summary>
    private void ProposeChange(PendingChange change)
    {
        _pendingChange = change;
        _machine.ChangingMembership = true;
        var needsScore = change.Proposed.Retired?.Contains(change.Slot) != true || Settings.Mode == FitnessMode.Merged;
        if (!needsScore)
        {
            StoreChange(change, null);
            return;
        }
        if (_evaluators.NextScorer(null) is not { } scorer)
        {
            RefusePending("no healthy evaluator to score the population with the change");
            return;
        }
        _pendingChange = change with { Scorer = scorer };
        scorer.Tell(new ScoreProposedPopulation(change.Proposed, change.Slot));
    }

    private void StoreChange(PendingChange pending, ProposedPopulationScored? scored)
    {
        var change = pending.Event(scored);
        Persist((object)change, _ =>
        {
            _machine.Apply(change);
            _pendingChange = null;
            _machine.ChangingMembership = false;
            if (change is MemberAdmitted admitted)
            {
                _members.Tell(new AdoptWeights(admitted.Slot, admitted.WeightsId, admitted.Version, []));
                _log.Info("version {0}: {1} admitted as slot {2} ({3}, dev {4:F4})", admitted.Version, admitted.Name, admitted.Slot, admitted.WeightsId, admitted.Score);
                // The snapshot written for it is the newest: recorded like any other.
                Persist(new PopulationSnapshotted(Ledger.NextSequence, Ledger.Version, DateTime.UtcNow), _machine.Apply);
            }
            else
            {
                _log.Info("version {0}: slot {1} retired ({2})", change.Version, change.Slot, ((MemberRetired)change).Reason);
            }
            Broadcast();
            WriteStatus(force: true);
            pending.ReplyTo.Tell(MembershipAnswer.Stored(change, Progress()));
            DecideSoon();
        });
    }

    private void RefusePending(string reason)
    {
        if (_pendingChange is not { } pending)
        {
            return;
        }
        _pendingChange = null;
        _machine.ChangingMembership = false;
        _log.Warning("membership change refused: {0}", reason);
        pending.ReplyTo.Tell(MembershipAnswer.Refusal(reason, Progress()));
        DecideSoon();
    }

    /// <summary>The evaluator scoring a proposed population went: the change is refused (the operator may ask again).</summary>
    private void MembershipScorerGone(IActorRef evaluator)
    {
        if (_pendingChange?.Scorer?.Equals(evaluator) == true)
        {
            RefusePending("the evaluator scoring the population with the change went away");
        }
    }
}
