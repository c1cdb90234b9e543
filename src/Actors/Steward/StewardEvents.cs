using EvolverActors.Actors.Messages;

namespace EvolverActors.Actors.Steward;

// Persisted events of the steward. They are stored in the journal and can never change shape:
// add new event types instead of editing these.

/// <summary>The run's population and its initial scores (version 0).</summary>
public sealed record RunInitialized(string[] SlotWeights, double[] SlotScores, double? PopulationScore, long Evaluations, DateTime At) : IEvolverMessage;

/// <summary>One accepted offspring: the lineage record.</summary>
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

/// <summary>One evaluated offspring that did not replace its target.</summary>
public sealed record OffspringRejected(int Slot, string Operator, double Score, long Version, string Reason, long Evaluation) : IEvolverMessage;

/// <summary>An offspring that could not be evaluated after its retries (older runs: not counted as an evaluation; see <see cref="OffspringEvaluationFailed"/>).</summary>
public sealed record OffspringDropped(int Slot, string Operator, string Reason) : IEvolverMessage;

/// <summary>
/// An offspring whose evaluation failed on every retry, given up: it counts as one (failed) evaluation toward the
/// budget, numbered like the others (<paramref name="Evaluation"/>), so a run whose evaluators fail still ends.
/// </summary>
public sealed record OffspringEvaluationFailed(int Slot, string Operator, string Reason, long Evaluation, DateTime At) : IEvolverMessage;

/// <summary>The run met a stopping rule; a later start reports instead of running again.</summary>
public sealed record RunFinished(string Reason, DateTime At) : IEvolverMessage;

/// <summary>Snapshot of the steward's state (recovery time does not grow with run length).</summary>
public sealed record StewardSnapshot(StewardState State) : IEvolverMessage;
