using Akka.Actor;
using EvolverActors.Actors.Messages;

namespace EvolverActors.Actors.Steward;

/// <summary>
/// One offspring as it travels: ids and its recipe, never tensors. Enough to rebuild it exactly
/// (target, parents and their weight ids, operator, F, CR, crossover, granularity, seed).
/// </summary>
public sealed record OffspringInfo(
    string Id,
    int Target,
    string TargetWeights,
    int[] Parents,
    string[] ParentWeights,
    string Operator,
    double F,
    double CR,
    string Crossover,
    bool JRand,
    string Granularity,
    ulong Seed,
    long BredAtVersion,
    int Generation,
    int Attempt = 0) : IEvolverMessage;

/// <summary>The steward's published view of the population: which weights each slot holds, at which version.</summary>
public sealed record LedgerView(long Version, string[] SlotWeights, double[] SlotScores, double? PopulationScore, bool Finished) : IEvolverMessage;

/// <summary>An evaluator announces itself (the steward and the breeder watch it).</summary>
public sealed record RegisterEvaluator(IActorRef Evaluator, string Name) : IEvolverMessage;

/// <summary>A breeder announces itself to receive ledger changes and decisions.</summary>
public sealed record RegisterBreeder(IActorRef Breeder) : IEvolverMessage;

/// <summary>Steward → evaluator: score the population at this version (run start: slot scores and/or S).</summary>
public sealed record ScorePopulation(long Version) : IEvolverMessage;

/// <summary>Evaluator → steward: the initial scores.</summary>
public sealed record PopulationScored(long Version, double[] SlotScores, double? PopulationScore, string Evaluator) : IEvolverMessage;

/// <summary>Evaluator → steward: the initial scores could not be computed (the steward asks another evaluator).</summary>
public sealed record PopulationScoreFailed(long Version, string Evaluator, IActorRef EvaluatorRef, string Reason) : IEvolverMessage;

/// <summary>
/// Evaluator → steward and breeder: it failed too many scores in a row (or could not start) and stops; its in-flight
/// offspring go to the others, and its scores still on the way are not decided.
/// </summary>
public sealed record EvaluatorRetired(IActorRef Evaluator, string Name, string Reason) : IEvolverMessage;

/// <summary>Evaluator → steward: an offspring's fitness, measured against the population at <paramref name="ScoredAtVersion"/>.</summary>
public sealed record OffspringScored(OffspringInfo Offspring, double Score, long ScoredAtVersion, string Evaluator, IActorRef EvaluatorRef) : IEvolverMessage;

/// <summary>Steward → evaluator: the offspring was scored against an older population; score it against this version.</summary>
public sealed record RescoreOffspring(string OffspringId, long Version) : IEvolverMessage;

/// <summary>Steward → evaluator: write the accepted offspring's file (fsynced) before the acceptance is persisted.</summary>
public sealed record PersistOffspring(string OffspringId) : IEvolverMessage;

/// <summary>Evaluator → steward: the file is durable.</summary>
public sealed record OffspringPersisted(string OffspringId) : IEvolverMessage;

/// <summary>Evaluator → steward: the file could not be written (the offspring is rejected; the run goes on).</summary>
public sealed record OffspringPersistFailed(string OffspringId, string Reason) : IEvolverMessage;

/// <summary>Steward → evaluator and breeder: the decision (the evaluator may release the offspring).</summary>
public sealed record OffspringDecided(string OffspringId, int Generation, bool Accepted, LedgerView Ledger) : IEvolverMessage;

/// <summary>Breeder → steward: an offspring failed on every retry and is dropped.</summary>
public sealed record OffspringLost(OffspringInfo Offspring, string Reason) : IEvolverMessage;

/// <summary>Steward → breeders and evaluators: a new version (an acceptance) or the end of the run.</summary>
public sealed record LedgerChanged(LedgerView Ledger) : IEvolverMessage;

/// <summary>Asks the steward for its state; answered with <see cref="RunProgress"/>.</summary>
public sealed record GetRunProgress : IEvolverMessage
{
    public static GetRunProgress Instance { get; } = new();
}

/// <summary>The steward's progress (live display, status file, tests).</summary>
/// <remarks><paramref name="Lost"/>: offspring given up after their retries; <paramref name="Failed"/>: those of them counted as evaluations.</remarks>
public sealed record RunProgress(string State, long Evaluations, long Accepted, long Rejected, long Lost, double BestDev,
    double? PopulationScore, long Version, double EvaluationsPerSecond, double? EtaSeconds, string? Reason, LedgerView Ledger, long Failed = 0) : IEvolverMessage;

/// <summary>Asks the steward to stop gracefully: no new work, in-flight offspring abandoned, the run stays resumable.</summary>
public sealed record StopRun(string Reason) : IEvolverMessage;

/// <summary>Published on the event stream when the run ends (finished, stopped or failed) so the host can exit.</summary>
public sealed record RunEnded(string State, string Reason, int ExitCode) : IEvolverMessage;

/// <summary>Steward → itself: look at the stopping rules now (after a decision has been stored).</summary>
public sealed record CheckBudget : IEvolverMessage
{
    public static CheckBudget Instance { get; } = new();
}
