using Akka.Actor;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Messages;

namespace EvolverActors.Actors.Steward;

/// <summary>
/// One offspring as it travels: its weight id (a content address), its recipe, and the population it was bred from
/// (the evaluator scores it against that population, so a score does not depend on timing). Never tensors.
/// </summary>
public sealed record OffspringInfo(string Id, Recipe Recipe, LedgerView BredFrom, int Attempt = 0) : IEvolverMessage
{
    public int Target => Recipe.Target;
    public long Sequence => Recipe.Sequence;
    public string Operator => Recipe.Operator;
}

/// <summary>
/// The steward's published view of the population after <paramref name="Decided"/> decisions: which weights each slot
/// holds, at which version (acceptances, admissions and retirements so far). <paramref name="Retired"/>: slots that left
/// the population (null or empty: none); they keep their index but are neither targets, parents nor merged.
/// </summary>
/// <remarks>
/// <paramref name="Statistics"/>: per slot, the id of the merge statistics of a member admitted while running (null for
/// the starting slots, whose statistics are configured; the array is null when no admitted member has any).
/// </remarks>
public sealed record LedgerView(long Version, string[] SlotWeights, double[] SlotScores, double? PopulationScore, bool Finished, long Decided = 0,
    int[]? Retired = null, string?[]? Statistics = null) : IEvolverMessage
{
    public bool IsRetired(int slot) => Retired is { Length: > 0 } retired && Array.IndexOf(retired, slot) >= 0;

    /// <summary>The population's members as a merged fitness looks up their statistics: ledger slot and statistics id, in slot order.</summary>
    public Tensors.Evaluation.MemberKey[] MemberKeys() =>
        [.. ActiveSlots().Select(slot => new Tensors.Evaluation.MemberKey(slot, Statistics is { } ids && slot < ids.Length ? ids[slot] : null))];

    /// <summary>The slots in the population, in slot order (every slot when none is retired).</summary>
    public int[] ActiveSlots() => Retired is not { Length: > 0 }
        ? [.. Enumerable.Range(0, SlotWeights.Length)]
        : [.. Enumerable.Range(0, SlotWeights.Length).Where(s => !IsRetired(s))];
}

/// <summary>An evaluator announces itself (the steward and the breeder watch it).</summary>
public sealed record RegisterEvaluator(IActorRef Evaluator, string Name) : IEvolverMessage;

/// <summary>A breeder announces itself to receive ledger changes and decisions.</summary>
public sealed record RegisterBreeder(IActorRef Breeder) : IEvolverMessage;

/// <summary>Steward → evaluator: score the population at this version (run start: slot scores and/or S).</summary>
public sealed record ScorePopulation(long Version) : IEvolverMessage;

/// <summary>Evaluator → steward: the initial scores (and, in a run with a guard, the guard scores likewise).</summary>
public sealed record PopulationScored(long Version, double[] SlotScores, double? PopulationScore, string Evaluator,
    double[]? SlotGuards = null, double? PopulationGuard = null) : IEvolverMessage;

/// <summary>Evaluator → steward: the initial scores could not be computed (the steward asks another evaluator).</summary>
public sealed record PopulationScoreFailed(long Version, string Evaluator, IActorRef EvaluatorRef, string Reason) : IEvolverMessage;

/// <summary>
/// Evaluator → steward and breeder: it failed too many scores in a row (or could not start) and stops; its in-flight
/// offspring go to the others, and its scores still on the way are not decided.
/// </summary>
public sealed record EvaluatorRetired(IActorRef Evaluator, string Name, string Reason) : IEvolverMessage;

/// <summary>
/// Evaluator → steward: an offspring's fitness, measured against the population at <paramref name="ScoredAtVersion"/>,
/// with the content hash of the weights it scored (recorded on acceptance, so any rebuild can be checked). In a run
/// with a guard, <paramref name="Guard"/> is the same candidate's score on the guard split.
/// </summary>
public sealed record OffspringScored(OffspringInfo Offspring, double Score, long ScoredAtVersion, string ContentHash, string Evaluator, IActorRef EvaluatorRef,
    double? Guard = null) : IEvolverMessage;

/// <summary>Steward → evaluator: the offspring was scored against an older population; score it against <paramref name="Population"/>.</summary>
public sealed record RescoreOffspring(string OffspringId, LedgerView Population) : IEvolverMessage;

/// <summary>
/// Steward → evaluator and breeders: what became of an offspring. <paramref name="Decided"/> false means abandoned
/// (the run stops, or a copy of an offspring decided already): no decision was recorded, and the ledger is unchanged.
/// <paramref name="Score"/>: the decided dev score (null when it failed or was not decided), which a coefficient search draws its next generation from.
/// </summary>
public sealed record OffspringDecided(string OffspringId, long Sequence, bool Accepted, LedgerView Ledger, bool Decided = true, double? Score = null)
    : IEvolverMessage;

/// <summary>
/// Steward → breeder: where issuing starts (the first undecided sequence number, the last sequence number the budget
/// allows, and the recent populations offspring are bred from). In a coefficient search, <paramref name="SearchScores"/>
/// holds every decided candidate's dev score by sequence number (null: failed), from which the search is replayed.
/// </summary>
public sealed record BreedFrom(long NextSequence, long SequenceLimit, LedgerView[] Views, double?[]? SearchScores = null) : IEvolverMessage;

/// <summary>Breeder → steward: an offspring failed on every retry and is dropped.</summary>
public sealed record OffspringLost(OffspringInfo Offspring, string Reason) : IEvolverMessage;

/// <summary>Steward → breeders and evaluators: a new version (an acceptance) or the end of the run.</summary>
/// <remarks>
/// <paramref name="Recipes"/>: recipes of accepted offspring the receiver may not know (all the steward keeps when an
/// evaluator registers, then each acceptance's own), so that an evaluator on another node can rebuild every member
/// from the starting checkpoints, snapshots and recipes (docs/architecture.md §4).
/// </remarks>
public sealed record LedgerChanged(LedgerView Ledger, IReadOnlyList<KnownRecipe>? Recipes = null) : IEvolverMessage;

/// <summary>An accepted offspring's recipe and the content hash the run measured for it.</summary>
public sealed record KnownRecipe(string WeightsId, Lineage.Recipe Recipe, string ContentHash) : IEvolverMessage;

/// <summary>Asks the steward for its state; answered with <see cref="RunProgress"/>.</summary>
public sealed record GetRunProgress : IEvolverMessage
{
    public static GetRunProgress Instance { get; } = new();
}

/// <summary>The steward's progress (live display, status file, tests).</summary>
/// <remarks><paramref name="Lost"/>: offspring given up after their retries; <paramref name="Failed"/>: those of them counted as evaluations.</remarks>
public sealed record RunProgress(string State, long Evaluations, long Accepted, long Rejected, long Lost, double BestDev,
    double? PopulationScore, long Version, double EvaluationsPerSecond, double? EtaSeconds, string? Reason, LedgerView Ledger, long Failed = 0,
    long MaxEvaluations = 0) : IEvolverMessage;

/// <summary>Asks the steward to stop gracefully: no new work, in-flight offspring abandoned, the run stays resumable.</summary>
public sealed record StopRun(string Reason) : IEvolverMessage;

/// <summary>
/// Pauses (true) or resumes (false) the run: breeders hand out no work while paused, offspring already handed out are
/// still scored and decided. Not persisted: a resumed process runs (docs/architecture.md §6). Answered with <see cref="RunProgress"/>.
/// </summary>
public sealed record PauseRun(bool Paused) : IEvolverMessage;

/// <summary>
/// Changes the budget of the running run (null: unchanged); stored as a <see cref="BudgetChanged"/> event, so it holds
/// across resumes. Answered with <see cref="RunProgress"/> once stored.
/// </summary>
public sealed record ChangeBudget(long? MaxEvaluations, double? MaxWallTimeSeconds, double? TargetScore, int? Patience) : IEvolverMessage;

/// <summary>Asks the steward for the latest acceptances of this session (newest first); answered with <see cref="RecentAcceptances"/>.</summary>
public sealed record GetRecentAcceptances : IEvolverMessage
{
    public static GetRecentAcceptances Instance { get; } = new();
}

/// <summary>The latest acceptances the steward stored or recovered (at most <c>StewardActor.RecentKept</c>), newest first.</summary>
public sealed record RecentAcceptances(IReadOnlyList<RecipeAccepted> Accepted) : IEvolverMessage;

/// <summary>
/// Asks the steward to write status.json now: the node's HTTP address became known, and a run whose evaluations take
/// long (or a paused one) may write no other status for a while.
/// </summary>
public sealed record RefreshStatus : IEvolverMessage
{
    public static RefreshStatus Instance { get; } = new();
}

/// <summary>Published on the event stream when the run ends (finished, stopped or failed) so the host can exit.</summary>
public sealed record RunEnded(string State, string Reason, int ExitCode) : IEvolverMessage;

/// <summary>Steward → itself: look at the stopping rules now (after a decision has been stored).</summary>
public sealed record CheckBudget : IEvolverMessage
{
    public static CheckBudget Instance { get; } = new();
}

/// <summary>
/// Asks the steward to admit a member (`evolver admit`, <c>POST /api/admit</c>): weights <paramref name="WeightsId"/>,
/// already kept in the run's population snapshots (content hash <paramref name="ContentHash"/>). Answered with
/// <see cref="MembershipAnswer"/> once the <see cref="MemberAdmitted"/> event is stored, or refused.
/// </summary>
/// <remarks>
/// <paramref name="StartingId"/>: the id the checkpoint has as a starting member (what a run that started with it calls it).
/// <paramref name="Statistics"/>: in a merged fisher or regmean run, the id of the member's statistics, kept in the
/// population snapshots like its weights.
/// </remarks>
public sealed record AdmitMember(string WeightsId, string Name, string Source, string ContentHash, string? StartingId = null, string? Statistics = null)
    : IEvolverMessage;

/// <summary>Asks the steward to retire a slot (`evolver retire`, <c>POST /api/retire</c>); answered with <see cref="MembershipAnswer"/>.</summary>
public sealed record RetireMember(int Slot, string Reason) : IEvolverMessage;

/// <summary>
/// What became of an <see cref="AdmitMember"/> or <see cref="RetireMember"/>: the stored event, or why it was refused.
/// (Two fields rather than one of the interface's type: the answer crosses nodes as JSON, which needs concrete types.)
/// </summary>
public sealed record MembershipAnswer(MemberAdmitted? Admitted, MemberRetired? Retired, string? Refused, RunProgress Progress) : IEvolverMessage
{
    public static MembershipAnswer Refusal(string reason, RunProgress progress) => new(null, null, reason, progress);

    public static MembershipAnswer Stored(IMembershipChange change, RunProgress progress) =>
        new(change as MemberAdmitted, change as MemberRetired, null, progress);

    [System.Text.Json.Serialization.JsonIgnore]
    public IMembershipChange? Change => (IMembershipChange?)Admitted ?? Retired;
}

/// <summary>
/// Steward → evaluator: score a proposed population (an admission or retirement, not stored yet): the dev score of
/// <paramref name="Slot"/>'s member in individual mode, S in merged mode.
/// </summary>
public sealed record ScoreProposedPopulation(LedgerView Population, int Slot) : IEvolverMessage;

/// <summary>Evaluator → steward: the scores of a <see cref="ScoreProposedPopulation"/>.</summary>
public sealed record ProposedPopulationScored(long Version, int Slot, double SlotScore, double? PopulationScore, string Evaluator) : IEvolverMessage;

/// <summary>Evaluator → steward: a proposed population could not be scored.</summary>
public sealed record ProposedPopulationScoreFailed(long Version, string Evaluator, string Reason) : IEvolverMessage;
