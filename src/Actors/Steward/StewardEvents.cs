using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Messages;

namespace EvolverActors.Actors.Steward;

// Persisted events of the steward. They are stored in the journal and can never change shape:
// add new event types instead of editing these.

/// <summary>
/// The run's population and its initial scores (version 0). In a run with a guard (docs/architecture.md §1, "The
/// guard"), the guard scores likewise: per slot (individual mode) and of X(population) (merged mode); null otherwise,
/// and in events stored before the guard existed.
/// </summary>
public sealed record RunInitialized(string[] SlotWeights, double[] SlotScores, double? PopulationScore, long Evaluations, DateTime At,
    double[]? SlotGuards = null, double? PopulationGuard = null) : IEvolverMessage;

/// <summary>
/// One accepted offspring, as runs before recipes recorded it (its weights were written to the run's weight store
/// first). Still read, never written.
/// </summary>
public sealed record OffspringAccepted(
    long Version,
    int Slot,
    string WeightsId,
    string ReplacedWeightsId,
    int[] Parents,
    string[] ParentWeights,
    string Operator,
    double F,
    double CR,
    string Crossover,
    bool JRand,
    string Granularity,
    ulong Seed,
    double Score,
    double PreviousScore,
    long Evaluation,
    string Evaluator,
    DateTime At) : IEvolverMessage;

/// <summary>One evaluated offspring that did not replace its target (runs before recipes; still read, never written).</summary>
public sealed record OffspringRejected(int Slot, string Operator, double Score, long Version, string Reason, long Evaluation) : IEvolverMessage;

/// <summary>An offspring that could not be evaluated after its retries (older runs: not counted as an evaluation; see <see cref="OffspringEvaluationFailed"/>).</summary>
public sealed record OffspringDropped(int Slot, string Operator, string Reason) : IEvolverMessage;

/// <summary>
/// An offspring whose evaluation failed on every retry, given up: it counts as one (failed) evaluation toward the
/// budget, numbered like the others (<paramref name="Evaluation"/>), so a run whose evaluators fail still ends.
/// </summary>
public sealed record OffspringEvaluationFailed(int Slot, string Operator, string Reason, long Evaluation, DateTime At) : IEvolverMessage;

/// <summary>
/// One accepted offspring (docs/architecture.md §3): its recipe, so any node rebuilds it bit for bit, the content hash
/// of the weights that were scored, and the decision. Written before any member adopts it; no weight file is. In a run
/// with a guard, <paramref name="Guard"/> is its guard score and <paramref name="PreviousGuard"/> the one it was held
/// against (null otherwise, and in events stored before the guard existed).
/// </summary>
public sealed record RecipeAccepted(
    long Version,
    Recipe Recipe,
    string WeightsId,
    string ReplacedWeightsId,
    string ContentHash,
    double Score,
    double PreviousScore,
    long Evaluation,
    string Evaluator,
    DateTime At,
    double? Guard = null,
    double? PreviousGuard = null) : IEvolverMessage
{
    [System.Text.Json.Serialization.JsonIgnore]
    public int Slot => Recipe.Target;

    /// <summary>The lineage record in the shape every reader of older runs knows.</summary>
    public OffspringAccepted ToLineage() => new(Version, Recipe.Target, WeightsId, ReplacedWeightsId, Recipe.Parents, Recipe.ParentWeights,
        Recipe.Operator, Recipe.F, Recipe.CR, Recipe.Crossover, Recipe.JRand, Recipe.Granularity, Recipe.Seed, Score, PreviousScore, Evaluation, Evaluator, At);
}

/// <summary>One evaluated offspring that did not replace its target, decided in sequence order (with its guard score in a run with a guard).</summary>
public sealed record RecipeRejected(long Sequence, int Slot, string Operator, double Score, long Version, string Reason, long Evaluation, DateTime At,
    double? Guard = null) : IEvolverMessage;

/// <summary>One offspring whose evaluation failed on every retry, decided in sequence order; it counts as a (failed) evaluation.</summary>
public sealed record RecipeFailed(long Sequence, int Slot, string Operator, string Reason, long Evaluation, DateTime At) : IEvolverMessage;

/// <summary>
/// A population snapshot after <paramref name="Decided"/> decisions is complete on disk: recipes accepted before the
/// older of the two kept snapshots are no longer needed to rebuild any member (docs/architecture.md §3).
/// </summary>
public sealed record PopulationSnapshotted(long Decided, long Version, DateTime At) : IEvolverMessage;

/// <summary>
/// The run met a stopping rule; a later start reports instead of running again, unless its budget was raised since
/// (<see cref="RunReopened"/>). <paramref name="Budget"/>: the budget it finished under (null in events stored before it was kept).
/// </summary>
public sealed record RunFinished(string Reason, DateTime At, BudgetValues? Budget = null) : IEvolverMessage;

/// <summary>
/// A finished run started again with a budget that no longer stops it (more evaluations, a higher target, more patience,
/// more wall time than it finished under; docs/architecture.md §3): it goes on from where it finished.
/// </summary>
public sealed record RunReopened(string PreviousReason, BudgetValues Budget, DateTime At) : IEvolverMessage;

/// <summary>
/// The budget was changed while the run ran (`evolver budget`, <c>POST /api/budget</c>; docs/architecture.md §6): each
/// value given replaces the config's for the rest of the run, resumes included, as long as the config still says what
/// it said then (<paramref name="Configured"/>): the later word wins. Null leaves a value as it was.
/// </summary>
public sealed record BudgetChanged(long? MaxEvaluations, double? MaxWallTimeSeconds, double? TargetScore, int? Patience, BudgetValues Configured, DateTime At)
    : IEvolverMessage;

/// <summary>A run config's budget values, as a <see cref="BudgetChanged"/> found them.</summary>
public sealed record BudgetValues(long MaxEvaluations, double? MaxWallTimeSeconds, double? TargetScore, int Patience) : IEvolverMessage
{
    public static BudgetValues Of(Run.RunSettings settings) =>
        new(settings.MaxEvaluations, settings.MaxWallTime?.TotalSeconds, settings.TargetScore, settings.Patience);
}

/// <summary>Snapshot of the steward's state (recovery time does not grow with run length).</summary>
public sealed record StewardSnapshot(StewardState State) : IEvolverMessage;

/// <summary>A change of the population's membership while the run runs (docs/architecture.md §6, "Admission and retirement").</summary>
public interface IMembershipChange : IEvolverMessage
{
    int Slot { get; }
    string WeightsId { get; }
    long Version { get; }
    DateTime At { get; }
}

/// <summary>
/// A new member joins the running population as slot <paramref name="Slot"/> (always a new slot, after the others):
/// weights <paramref name="WeightsId"/> (content hash <paramref name="ContentHash"/>, kept in the run's population
/// snapshots before this event is stored), imported from <paramref name="Source"/>. <paramref name="Score"/> is its
/// dev score (individual mode) or the new S (merged mode, with <paramref name="PopulationScore"/>). A new version.
/// In a merged fisher or regmean run <paramref name="Statistics"/> is the id under which the member's Fisher or Gram
/// statistics are kept in the population snapshots (null otherwise, and in events stored before it existed).
/// </summary>
public sealed record MemberAdmitted(int Slot, string WeightsId, string Name, string Source, string ContentHash, double Score, double? PopulationScore,
    long Version, DateTime At, string? Statistics = null) : IMembershipChange;

/// <summary>
/// Slot <paramref name="Slot"/> leaves the population: nothing targets or breeds from it any more, and it is not part
/// of the merged model; its index is kept (recipes name slots by index). In merged mode <paramref name="PopulationScore"/>
/// is S without it. A new version.
/// </summary>
public sealed record MemberRetired(int Slot, string WeightsId, string Reason, double? PopulationScore, long Version, DateTime At) : IMembershipChange;
