using Akka.Persistence;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Steward;

/// <summary>A run's ledger and full lineage as read back from the journal (no actor of the run needs to be alive).</summary>
/// <remarks>
/// <paramref name="Lineage"/> has every acceptance in one shape (runs before recipes wrote <see cref="OffspringAccepted"/>);
/// <paramref name="Recipes"/> has the acceptances with their recipes (runs since); <paramref name="Membership"/> the
/// admissions and retirements made while running, in order.
/// </remarks>
public sealed record LedgerReport(StewardState State, IReadOnlyList<RunInitialized> Starts, IReadOnlyList<OffspringAccepted> Lineage, long Events,
    IReadOnlyList<RecipeAccepted> Recipes, IReadOnlyList<IMembershipChange>? Membership = null)
{
    /// <summary>
    /// The population at <paramref name="version"/>: the starting members, then every acceptance, admission and
    /// retirement up to it, in version order (scores are not kept: NaN).
    /// </summary>
    public LedgerView PopulationAt(long version)
    {
        var slots = Starts.Count == 0 ? [] : Starts[0].SlotWeights.ToList();
        var statistics = new List<string?>(slots.Select(_ => (string?)null));
        var retired = new SortedSet<int>();
        // A coefficient search's acceptances change its best merge, not the members.
        var changes = Lineage.Where(a => a.Operator != Tensors.Search.CoefficientSearch.OperatorName).Select(a => (a.Version, Change: (object)a))
            .Concat((Membership ?? []).Select(m => (m.Version, Change: (object)m)))
            .Where(c => c.Version <= version)
            .OrderBy(c => c.Version);
        foreach (var (_, change) in changes)
        {
            switch (change)
            {
                case OffspringAccepted a:
                    slots[a.Slot] = a.WeightsId;
                    break;
                case MemberAdmitted m:
                    slots.Add(m.WeightsId);
                    statistics.Add(m.Statistics);
                    break;
                case MemberRetired r:
                    retired.Add(r.Slot);
                    break;
            }
        }
        return new LedgerView(version, [.. slots], [.. slots.Select(_ => double.NaN)], null, false, 0,
            retired.Count == 0 ? null : [.. retired], statistics.Any(s => s is not null) ? [.. statistics] : null);
    }
}

/// <summary>
/// Replays the steward's events (all of them, ignoring snapshots) and hands back the ledger and the lineage,
/// then stops. It never persists, so it is safe beside a running steward.
/// </summary>
public sealed class LedgerReader : ReceivePersistentActor
{
    private readonly StewardState _state = new();
    private readonly List<RunInitialized> _starts = [];
    private readonly List<OffspringAccepted> _lineage = [];
    private readonly List<RecipeAccepted> _recipes = [];
    private readonly List<IMembershipChange> _membership = [];
    private long _events;

    private readonly TaskCompletionSource<LedgerReport> _result;

    public LedgerReader(string runId, TaskCompletionSource<LedgerReport> result)
    {
        _result = result;
        PersistenceId = $"steward-{runId}";
        Recover<RunInitialized>(e => Add(e, () => _starts.Add(e)));
        Recover<OffspringAccepted>(e => Add(e, () => _lineage.Add(e)));
        Recover<OffspringRejected>(e => Add(e, null));
        Recover<OffspringDropped>(e => Add(e, null));
        Recover<OffspringEvaluationFailed>(e => Add(e, null));
        Recover<RecipeAccepted>(e => Add(e, () =>
        {
            _lineage.Add(e.ToLineage());
            _recipes.Add(e);
        }));
        Recover<RecipeRejected>(e => Add(e, null));
        Recover<RecipeFailed>(e => Add(e, null));
        Recover<PopulationSnapshotted>(e => Add(e, null));
        Recover<RunFinished>(e => Add(e, null));
        Recover<RunReopened>(e => Add(e, null));
        Recover<BudgetChanged>(e => Add(e, null));
        Recover<MemberAdmitted>(e => Add(e, () => _membership.Add(e)));
        Recover<MemberRetired>(e => Add(e, () => _membership.Add(e)));
        Recover<RecoveryCompleted>(_ =>
        {
            result.TrySetResult(new LedgerReport(_state, _starts, _lineage, _events, _recipes, _membership));
            Context.Stop(Self);
        });
        CommandAny(_ => { });
    }

    public override string PersistenceId { get; }

    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    /// <summary>A journal that cannot be replayed is the caller's one-line error, not a wait that times out.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        _result.TrySetException(new JournalUnreadableException($"the journal of run '{PersistenceId["steward-".Length..]}' cannot be read back: {reason.Message}"));

    private void Add(object evt, Action? record)
    {
        _state.Apply(evt);
        record?.Invoke();
        _events++;
    }
}

/// <summary>A run's journal that could not be replayed (a damaged or unreadable <c>journal.db</c>).</summary>
public sealed class JournalUnreadableException(string message) : EvolverException(message);
