using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Tensors.Search;

namespace EvolverActors.Actors.Steward;

/// <summary>What the steward decides about a scored offspring.</summary>
public enum Verdict
{
    Accept,
    Reject,

    /// <summary>Scored against an older population but better than the current S: score again against the current one.</summary>
    Rescore,
}

/// <summary>A decision with its reason (kept in rejection events and logs).</summary>
public sealed record Decision(Verdict Verdict, string Reason);

/// <summary>
/// The steward's ledger as plain data: each slot's weights id and score, the population version and S (merged
/// mode), counters and budgets. <see cref="Apply"/> folds persisted events in; <c>Decide</c> and
/// <see cref="StopReason"/> are pure, so the acceptance rule is tested without actors.
/// </summary>
public sealed class StewardState
{
    /// <summary>How many times a stale offspring may be re-scored before it is rejected.</summary>
    public const int MaxRescores = 3;

    public string[] SlotWeights { get; set; } = [];
    public double[] SlotScores { get; set; } = [];
    public double? PopulationScore { get; set; }

    /// <summary>
    /// A run with a guard (docs/architecture.md §1, "The guard"): each slot's guard score (individual mode; in merged
    /// mode every slot holds the population's), and the guard score of X(population) (merged mode). Null without a guard.
    /// </summary>
    public double[]? SlotGuards { get; set; }

    public double? PopulationGuard { get; set; }

    /// <summary>The population version whose guard score (of the run's output: X(population), or the best member by dev) was the highest, the latest of equals; and that score.</summary>
    public long? BestGuardVersion { get; set; }

    public double? BestGuard { get; set; }
    public long Version { get; set; }
    public long Evaluations { get; set; }
    public long Accepted { get; set; }
    public long Rejected { get; set; }
    public long Dropped { get; set; }

    /// <summary>Offspring given up after their retries and counted as (failed) evaluations.</summary>
    public long Failed { get; set; }
    public long LastAcceptedAt { get; set; }
    public bool Initialized { get; set; }
    public string? FinishedReason { get; set; }
    public Dictionary<string, long> RejectedByOperator { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Acceptances by operator (since this property exists: older snapshots start it at their events).</summary>
    public Dictionary<string, long> AcceptedByOperator { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Budget values changed while running (<see cref="BudgetChanged"/>), or null: the config's.</summary>
    public BudgetChanged? Budget { get; set; }
    public long[] RejectedBySlot { get; set; } = [];

    /// <summary>Slots retired while running (<see cref="MemberRetired"/>), in slot order; their index stays taken.</summary>
    public int[] RetiredSlots { get; set; } = [];

    /// <summary>Members admitted while running (<see cref="MemberAdmitted"/>).</summary>
    public long Admitted { get; set; }

    /// <summary>The merge statistics ids of members admitted with some (merged fisher/regmean), by slot; kept in every snapshot.</summary>
    public Dictionary<int, string> AdmittedStatistics { get; set; } = [];

    public bool IsRetired(int slot) => Array.BinarySearch(RetiredSlots, slot) >= 0;

    /// <summary>How many members the population has now (admitted ones in, retired ones out).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int ActiveCount => SlotWeights.Length - RetiredSlots.Length;

    /// <summary>Offspring decided so far: the sequence number of the next one to decide (decisions follow issue order).</summary>
    public long NextSequence { get; set; }

    /// <summary>How many recent populations <see cref="Views"/> keeps (what a breeder may still breed from).</summary>
    public int ViewWindow { get; set; } = 16;

    /// <summary>The population after each of the last <see cref="ViewWindow"/> decisions, oldest first.</summary>
    public List<LedgerView> Views { get; set; } = [];

    /// <summary>
    /// Accepted offspring's recipes and content hashes, by weight id: every one since the older of the two kept population
    /// snapshots, and those of pinned ids (what any member is rebuilt from, with the snapshots' files).
    /// </summary>
    public Dictionary<string, AcceptedRecipe> Recipes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The decision counts of the newest two complete population snapshots, oldest first.</summary>
    public List<long> PopulationSnapshots { get; set; } = [];

    public bool Finished => FinishedReason is not null;

    /// <summary>A coefficient search (docs/architecture.md §1): the weight id of the best merge accepted so far, or null (none yet: the equal-weight start).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? SearchBest { get; set; }

    /// <summary>A coefficient search: every decided candidate's dev score by sequence number (null: it failed); null in a breeding run.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public List<double?>? SearchScores { get; set; }

    /// <summary>The budget the run finished under (<see cref="RunFinished"/>), or null (not finished, or finished before it was kept).</summary>
    public BudgetValues? FinishedBudget { get; set; }

    /// <summary>
    /// Whether a finished run goes on under <paramref name="effective"/> (the config's budget, with changes made while it
    /// ran): no stopping rule that counts evaluations, scores or patience holds any more, and one that held was raised.
    /// Wall time counts per session, so a run that finished by it goes on only when <c>max-wall-time</c> was raised
    /// above what it finished under (a run finished before that was kept goes on only by the other rules).
    /// </summary>
    public bool CanReopen(RunSettings effective)
    {
        if (!Finished || StopReason(effective, TimeSpan.Zero) is not null)
        {
            return false;
        }
        var now = BudgetValues.Of(effective);
        if (FinishedReason!.StartsWith("max-wall-time", StringComparison.Ordinal))
        {
            return FinishedBudget?.MaxWallTimeSeconds is { } was && now.MaxWallTimeSeconds is { } seconds && seconds > was;
        }
        return true;
    }

    /// <summary>The best dev score: S in merged mode, the best member's score in individual mode.</summary>
    public double BestDev(FitnessMode mode) =>
        mode == FitnessMode.Merged ? PopulationScore ?? double.NaN
        : ActiveCount == 0 ? double.NaN : SlotScores.Where((_, slot) => !IsRetired(slot)).Max();

    /// <summary>
    /// A deep copy. Snapshots must hold one: a snapshot store may serialise later (or, in memory, never), and the
    /// steward keeps mutating its own state, which would leak events after the snapshot's sequence number into it.
    /// </summary>
    public StewardState Copy() => new()
    {
        SlotWeights = [.. SlotWeights],
        SlotScores = [.. SlotScores],
        PopulationScore = PopulationScore,
        SlotGuards = SlotGuards is null ? null : [.. SlotGuards],
        PopulationGuard = PopulationGuard,
        BestGuardVersion = BestGuardVersion,
        BestGuard = BestGuard,
        Version = Version,
        Evaluations = Evaluations,
        Accepted = Accepted,
        Rejected = Rejected,
        Dropped = Dropped,
        Failed = Failed,
        LastAcceptedAt = LastAcceptedAt,
        Initialized = Initialized,
        FinishedReason = FinishedReason,
        FinishedBudget = FinishedBudget,
        RejectedByOperator = new Dictionary<string, long>(RejectedByOperator, StringComparer.Ordinal),
        AcceptedByOperator = new Dictionary<string, long>(AcceptedByOperator, StringComparer.Ordinal),
        Budget = Budget,
        RejectedBySlot = [.. RejectedBySlot],
        RetiredSlots = [.. RetiredSlots],
        Admitted = Admitted,
        AdmittedStatistics = new Dictionary<int, string>(AdmittedStatistics),
        NextSequence = NextSequence,
        ViewWindow = ViewWindow,
        Views = [.. Views],
        Recipes = new Dictionary<string, AcceptedRecipe>(Recipes, StringComparer.Ordinal),
        PopulationSnapshots = [.. PopulationSnapshots],
        SearchBest = SearchBest,
        SearchScores = SearchScores is null ? null : [.. SearchScores],
    };

    public LedgerView View() => new(Version, [.. SlotWeights], [.. SlotScores], PopulationScore, Finished, NextSequence,
        RetiredSlots.Length == 0 ? null : [.. RetiredSlots],
        AdmittedStatistics.Count == 0 ? null : [.. Enumerable.Range(0, SlotWeights.Length).Select(slot => AdmittedStatistics.GetValueOrDefault(slot))]);

    /// <summary>
    /// The ids a snapshot keeps: every slot of every recent population (a breeder may still read them), and the statistics
    /// of admitted members (read again at every start).
    /// </summary>
    public IReadOnlySet<string> PinnedIds() =>
        Views.SelectMany(v => v.SlotWeights).Concat(SlotWeights).Concat(AdmittedStatistics.Values).Concat(SearchBest is null ? [] : [SearchBest])
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>An acceptance, whichever event recorded it: the slot's weights and score, S (merged mode), the counters.</summary>
    private void Adopt(int slot, string weightsId, double score, long version, long evaluation, double? guard = null)
    {
        SlotWeights[slot] = weightsId;
        SlotScores[slot] = score;
        if (PopulationScore is not null)
        {
            PopulationScore = score;
        }
        if (SlotGuards is not null && guard is { } g)
        {
            if (PopulationGuard is not null)
            {
                PopulationGuard = g;
                Array.Fill(SlotGuards, g);
            }
            else
            {
                SlotGuards[slot] = g;
            }
        }
        Counted(version, evaluation);
    }

    /// <summary>The counters of an acceptance (of a member, or of a coefficient search's best merge).</summary>
    private void Counted(long version, long evaluation)
    {
        Version = version;
        Evaluations = Math.Max(Evaluations, evaluation);
        Accepted++;
        LastAcceptedAt = Evaluations;
    }

    private void Decided(long sequence)
    {
        NextSequence = sequence + 1;
        var view = View();
        Views.Add(Views.Count > 0 && SamePopulation(Views[^1], view) ? Views[^1] with { Decided = view.Decided } : view);
        if (Views.Count > ViewWindow)
        {
            Views.RemoveRange(0, Views.Count - ViewWindow);
        }
    }

    private static bool SamePopulation(LedgerView a, LedgerView b) =>
        a.Version == b.Version && a.PopulationScore == b.PopulationScore && a.SlotWeights.SequenceEqual(b.SlotWeights) && a.SlotScores.SequenceEqual(b.SlotScores)
        && (a.Retired ?? []).SequenceEqual(b.Retired ?? []);

    /// <summary>A coefficient candidate's decided score, at its sequence number.</summary>
    private void SearchScored(long sequence, double? score) => CoefficientSearch.Record(SearchScores ??= [], sequence, score);

    /// <summary>The membership changed without a decision: the newest view (the population breeders draw from next) is replaced.</summary>
    private void MembershipChanged(long version)
    {
        Version = version;
        var view = View();
        if (Views.Count > 0 && Views[^1].Decided == view.Decided)
        {
            Views[^1] = view;
        }
        else
        {
            Views.Add(view);
        }
    }

    /// <summary>
    /// The acceptance rule with the guard (docs/architecture.md §1, "The guard"): <see cref="Decide(FitnessMode, OffspringInfo, double, long, int)"/>
    /// on the selection part of dev, and then an acceptance stands only if the guard score does not fall more than
    /// <paramref name="tolerance"/> below the current one (the target slot's in individual mode, X(population)'s in merged mode).
    /// A run without a guard (<see cref="SlotGuards"/> null) decides on the score alone.
    /// </summary>
    public Decision Decide(FitnessMode mode, OffspringInfo offspring, double score, double? guard, double tolerance, long scoredAtVersion, int rescores)
    {
        var decision = Decide(mode, offspring, score, scoredAtVersion, rescores);
        if (decision.Verdict != Verdict.Accept || SlotGuards is null)
        {
            return decision;
        }
        if (guard is not { } g || !double.IsFinite(g))
        {
            return new Decision(Verdict.Reject, $"guard score {guard?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"} is not finite");
        }
        var current = CurrentGuard(mode, offspring.Target);
        return g >= current - tolerance
            ? decision with { Reason = $"{decision.Reason}; guard {g:F4} >= {current:F4} - {tolerance:G4}" }
            : new Decision(Verdict.Reject, $"{decision.Reason} but guard {g:F4} < {current:F4} - {tolerance:G4}");
    }

    /// <summary>The guard score an offspring for <paramref name="slot"/> is held against.</summary>
    public double CurrentGuard(FitnessMode mode, int slot) =>
        mode == FitnessMode.Merged ? PopulationGuard ?? double.NegativeInfinity : SlotGuards?[slot] ?? double.NegativeInfinity;

    /// <summary>The guard score of the run's output now: X(population)'s in merged mode, the best member's by dev in individual mode.</summary>
    public double? OutputGuard()
    {
        if (SlotGuards is null)
        {
            return null;
        }
        if (PopulationGuard is not null)
        {
            return PopulationGuard;
        }
        var best = -1;
        for (var slot = 0; slot < SlotScores.Length; slot++)
        {
            if (!IsRetired(slot) && (best < 0 || SlotScores[slot] > SlotScores[best]))
            {
                best = slot;
            }
        }
        return best < 0 ? null : SlotGuards[best];
    }

    /// <summary>Records the current version as the best-guard one when its output's guard score is at least the best so far.</summary>
    private void TrackBestGuard()
    {
        if (OutputGuard() is { } guard && (BestGuard is null || guard >= BestGuard))
        {
            (BestGuard, BestGuardVersion) = (guard, Version);
        }
    }

    /// <summary>The acceptance rule of docs/architecture.md §1–2, including the version rule (never accept on a stale comparison).</summary>
    public Decision Decide(FitnessMode mode, OffspringInfo offspring, double score, long scoredAtVersion, int rescores)
    {
        if (!double.IsFinite(score))
        {
            return new Decision(Verdict.Reject, $"score {score} is not finite");
        }
        if (IsRetired(offspring.Target))
        {
            return new Decision(Verdict.Reject, $"slot {offspring.Target} was retired");
        }
        if (offspring.Recipe.IsCoefficients)
        {
            // A coefficient candidate is a whole merge, scored as it is: no population version enters its score.
            var best = PopulationScore ?? double.NegativeInfinity;
            return score > best
                ? new Decision(Verdict.Accept, $"{score:F4} > best merge {best:F4}")
                : new Decision(Verdict.Reject, $"{score:F4} <= best merge {best:F4}");
        }
        if (mode == FitnessMode.Individual)
        {
            var current = SlotScores[offspring.Target];
            return score > current
                ? new Decision(Verdict.Accept, $"{score:F4} > slot {offspring.Target}'s {current:F4}")
                : new Decision(Verdict.Reject, $"{score:F4} <= slot {offspring.Target}'s {current:F4}");
        }
        var s = PopulationScore ?? double.NegativeInfinity;
        if (scoredAtVersion == Version)
        {
            return score > s
                ? new Decision(Verdict.Accept, $"{score:F4} > S {s:F4}")
                : new Decision(Verdict.Reject, $"{score:F4} <= S {s:F4}");
        }
        if (score <= s)
        {
            return new Decision(Verdict.Reject, $"stale (version {scoredAtVersion} < {Version}) and {score:F4} <= S {s:F4}");
        }
        return rescores < MaxRescores
            ? new Decision(Verdict.Rescore, $"stale (version {scoredAtVersion} < {Version}) but {score:F4} > S {s:F4}: re-score")
            : new Decision(Verdict.Reject, $"still stale after {rescores} re-scores");
    }

    /// <summary>
    /// The run's settings with the budget changed while running in place of the config's, value by value, where the
    /// config still says what it said when the change was made (else the config was edited since: it wins).
    /// </summary>
    public RunSettings Effective(RunSettings configured)
    {
        if (Budget is not { } b)
        {
            return configured;
        }
        var now = BudgetValues.Of(configured);
        return configured with
        {
            MaxEvaluations = b.MaxEvaluations is { } max && now.MaxEvaluations == b.Configured.MaxEvaluations ? max : configured.MaxEvaluations,
            MaxWallTime = b.MaxWallTimeSeconds is { } seconds && now.MaxWallTimeSeconds == b.Configured.MaxWallTimeSeconds
                ? TimeSpan.FromSeconds(seconds) : configured.MaxWallTime,
            TargetScore = b.TargetScore is { } target && now.TargetScore == b.Configured.TargetScore ? target : configured.TargetScore,
            Patience = b.Patience is { } patience && now.Patience == b.Configured.Patience ? patience : configured.Patience,
        };
    }

    /// <summary>The stopping rule that holds now, or null to go on.</summary>
    public string? StopReason(RunSettings settings, TimeSpan elapsed)
    {
        if (Evaluations >= settings.MaxEvaluations)
        {
            return $"max-evaluations ({settings.MaxEvaluations}) reached";
        }
        if (settings.MaxWallTime is { } wall && elapsed >= wall)
        {
            return $"max-wall-time ({wall}) reached";
        }
        if (settings.TargetScore is { } target && BestDev(settings.Mode) >= target)
        {
            return $"target score {target} reached";
        }
        if (settings.Patience > 0 && Evaluations - LastAcceptedAt >= settings.Patience)
        {
            return $"patience: no acceptance in {settings.Patience} evaluations";
        }
        return null;
    }

    public void Apply(object evt)
    {
        switch (evt)
        {
            case RunInitialized e:
                SlotWeights = [.. e.SlotWeights];
                SlotScores = [.. e.SlotScores];
                PopulationScore = e.PopulationScore;
                SlotGuards = e.SlotGuards is null ? null : [.. e.SlotGuards];
                PopulationGuard = e.PopulationGuard;
                RejectedBySlot = new long[e.SlotWeights.Length];
                Evaluations = e.Evaluations;
                Initialized = true;
                Views = [View()];
                TrackBestGuard();
                break;
            case RecipeAccepted e:
                if (e.Recipe.IsCoefficients)
                {
                    // The best merge changes; the members do not.
                    (SearchBest, PopulationScore) = (e.WeightsId, e.Score);
                    Counted(e.Version, e.Evaluation);
                    SearchScored(e.Recipe.Sequence, e.Score);
                }
                else
                {
                    Adopt(e.Slot, e.WeightsId, e.Score, e.Version, e.Evaluation, e.Guard);
                    TrackBestGuard();
                }
                AcceptedByOperator[e.Recipe.Operator] = AcceptedByOperator.GetValueOrDefault(e.Recipe.Operator) + 1;
                Recipes[e.WeightsId] = new AcceptedRecipe(e.Recipe, e.ContentHash);
                Decided(e.Recipe.Sequence);
                break;
            case RecipeRejected e:
                Evaluations = Math.Max(Evaluations, e.Evaluation);
                Rejected++;
                RejectedByOperator[e.Operator] = RejectedByOperator.GetValueOrDefault(e.Operator) + 1;
                RejectedBySlot[e.Slot]++;
                if (e.Operator == CoefficientSearch.OperatorName)
                {
                    SearchScored(e.Sequence, e.Score);
                }
                Decided(e.Sequence);
                break;
            case RecipeFailed e:
                Evaluations = Math.Max(Evaluations, e.Evaluation);
                Failed++;
                if (e.Operator == CoefficientSearch.OperatorName)
                {
                    SearchScored(e.Sequence, null);
                }
                Decided(e.Sequence);
                break;
            case OffspringAccepted e:
                Adopt(e.Slot, e.WeightsId, e.Score, e.Version, e.Evaluation);
                AcceptedByOperator[e.Operator] = AcceptedByOperator.GetValueOrDefault(e.Operator) + 1;
                break;
            case OffspringRejected e:
                Evaluations = Math.Max(Evaluations, e.Evaluation);
                Rejected++;
                RejectedByOperator[e.Operator] = RejectedByOperator.GetValueOrDefault(e.Operator) + 1;
                RejectedBySlot[e.Slot]++;
                break;
            case BudgetChanged e:
                // An earlier change survives only where the config still said then what it says now.
                var was = Budget;
                Budget = new BudgetChanged(
                    e.MaxEvaluations ?? (was?.Configured.MaxEvaluations == e.Configured.MaxEvaluations ? was?.MaxEvaluations : null),
                    e.MaxWallTimeSeconds ?? (was?.Configured.MaxWallTimeSeconds == e.Configured.MaxWallTimeSeconds ? was?.MaxWallTimeSeconds : null),
                    e.TargetScore ?? (was?.Configured.TargetScore == e.Configured.TargetScore ? was?.TargetScore : null),
                    e.Patience ?? (was?.Configured.Patience == e.Configured.Patience ? was?.Patience : null),
                    e.Configured, e.At);
                break;
            case OffspringDropped:
                Dropped++;
                break;
            case OffspringEvaluationFailed e:
                Evaluations = Math.Max(Evaluations, e.Evaluation);
                Failed++;
                break;
            case PopulationSnapshotted e:
                PopulationSnapshots.Add(e.Decided);
                if (PopulationSnapshots.Count > 2)
                {
                    PopulationSnapshots.RemoveRange(0, PopulationSnapshots.Count - 2);
                }
                var pinned = PinnedIds();
                var horizon = PopulationSnapshots[0];
                foreach (var id in Recipes.Where(r => r.Value.Recipe.Sequence < horizon && !pinned.Contains(r.Key)).Select(r => r.Key).ToList())
                {
                    Recipes.Remove(id);
                }
                break;
            case RunFinished e:
                FinishedReason = e.Reason;
                FinishedBudget = e.Budget;
                break;
            case RunReopened:
                FinishedReason = null;
                FinishedBudget = null;
                break;
            case MemberAdmitted e:
                SlotWeights = [.. SlotWeights, e.WeightsId];
                SlotScores = [.. SlotScores, e.Score];
                RejectedBySlot = [.. RejectedBySlot, 0];
                PopulationScore = e.PopulationScore ?? PopulationScore; // merged mode: S with the new member (its slot's score, as an acceptance's)
                Admitted++;
                if (e.Statistics is { } statistics)
                {
                    AdmittedStatistics[e.Slot] = statistics;
                }
                MembershipChanged(e.Version);
                break;
            case MemberRetired e:
                RetiredSlots = [.. RetiredSlots.Append(e.Slot).Distinct().Order()];
                PopulationScore = e.PopulationScore ?? PopulationScore; // merged mode: S without the member
                MembershipChanged(e.Version);
                break;
            default:
                throw new ArgumentException($"unknown steward event {evt.GetType().Name}", nameof(evt));
        }
    }
}

/// <summary>An accepted offspring's recipe and the content hash of the weights that were scored.</summary>
public sealed record AcceptedRecipe(Recipe Recipe, string ContentHash);
