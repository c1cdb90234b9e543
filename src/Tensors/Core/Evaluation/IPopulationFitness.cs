using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// The fitness of a population (docs/architecture.md §1): how an evaluator scores offspring, the population and the output.
/// <c>individual</c>: a member's fitness is its own dev score; the output is the best member.
/// <c>merged</c>: fitness belongs to the population, S = dev score of X(population); an offspring for slot i is
/// scored as X(population with slot i := child); the output is X(population).
/// Scores are on the dev split only (<see cref="PopulationFitness.DevSplit"/>); <see cref="Report"/> reads other
/// splits for reports, never for selection. One owner thread (an evaluator actor); the instance owns its evaluator.
/// </summary>
public interface IPopulationFitness : IDisposable
{
    /// <summary><c>individual</c> or <c>merged</c> (<see cref="PopulationFitness.Modes"/>).</summary>
    string Mode { get; }

    /// <summary>The population version this instance is synced to; -1 before the first <see cref="Sync"/>.</summary>
    long Version { get; }

    /// <summary>
    /// Brings this instance to the population at <paramref name="version"/>: one (weights id, weights) per slot.
    /// The weights stay the caller's; the caller keeps them alive until the next Sync returns (a merged fitness
    /// reads the previous ones to take them out of its merge). A lower version or another slot count rebuilds.
    /// <paramref name="members"/> says which ledger slot each entry is (its merge statistics belong to that slot; null:
    /// the starting slots 0..n−1); another membership rebuilds too.
    /// </summary>
    void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey>? members = null);

    /// <summary>
    /// The dev score of an offspring for <paramref name="slot"/>: individual → the child's own score;
    /// merged → the score of X(population with slot := child). Changes nothing.
    /// </summary>
    double ScoreCandidate(int slot, WeightSet child);

    /// <summary>Merged → the dev score S of X(population); individual → the best member's dev score.</summary>
    double ScorePopulation();

    /// <summary>Each slot's own dev score, in slot order (individual mode's initial fitness).</summary>
    IReadOnlyList<double> ScoreMembers();

    /// <summary>
    /// As <see cref="ScoreCandidate(int, WeightSet)"/>, on each of <paramref name="splits"/> (the candidate is built
    /// once): how the guard (<see cref="PopulationFitness.GuardSplit"/>) is scored beside dev. Changes nothing.
    /// </summary>
    IReadOnlyList<double> ScoreCandidate(int slot, WeightSet child, IReadOnlyList<string> splits);

    /// <summary>Merged → X(population) on each of <paramref name="splits"/>; individual → the best member by dev, on each.</summary>
    IReadOnlyList<double> ScorePopulation(IReadOnlyList<string> splits);

    /// <summary>Each slot's own score on <paramref name="split"/>, in slot order.</summary>
    IReadOnlyList<double> ScoreMembers(string split);

    /// <summary>The splits <see cref="Report"/> can score (dev, and test / ood where the task or evaluator has them).</summary>
    IReadOnlyCollection<string> Splits { get; }

    /// <summary>The score of <paramref name="weights"/> on a split (dev, test, ood), for reports.</summary>
    double Report(WeightSet weights, string split);

    /// <summary>The output model as a new weight set the caller owns: merged → X(population); individual → a clone of the best member by dev.</summary>
    WeightSet Fused();
}

/// <summary>The fitness modes by name, and the factory the host uses.</summary>
public static class PopulationFitness
{
    /// <summary>The split every selection score is taken on.</summary>
    public const string DevSplit = "dev";

    /// <summary>
    /// The part of the dev data held out from selection when a run has a guard (docs/architecture.md §1, "The guard"):
    /// an offspring must not fall on it by more than a tolerance. Dev data too: test and ood are never read to choose.
    /// </summary>
    public const string GuardSplit = "guard";

    /// <summary>The splits a run without a guard scores candidates on.</summary>
    public static IReadOnlyList<string> DevOnly { get; } = [DevSplit];

    /// <summary>The splits a run with a guard scores every candidate on, selection first.</summary>
    public static IReadOnlyList<string> DevAndGuard { get; } = [DevSplit, GuardSplit];

    public const string Individual = "individual";
    public const string Merged = "merged";

    /// <summary>The mode names.</summary>
    public static IReadOnlyList<string> Modes { get; } = [Individual, Merged];

    /// <summary>
    /// A fitness for <paramref name="mode"/> that owns <paramref name="scorer"/> (if this throws, the caller keeps it).
    /// Merged mode needs <paramref name="mergeMethod"/>, one with an incremental update (average, fisher, regmean, linear),
    /// its key=value <paramref name="parameters"/> and the per-slot statistics in <paramref name="inputs"/>;
    /// individual mode ignores those three.
    /// </summary>
    public static IPopulationFitness Create(
        string mode,
        ICandidateScorer scorer,
        string? mergeMethod = null,
        IReadOnlyDictionary<string, string>? parameters = null,
        MergeInputs? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(mode);
        if (string.Equals(mode, Individual, StringComparison.OrdinalIgnoreCase))
        {
            return new IndividualFitness(scorer);
        }
        if (string.Equals(mode, Merged, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(mergeMethod))
            {
                throw new EvolverException(
                    $"fitness mode '{Merged}' needs a merge method; methods with an incremental update: {string.Join(", ", IncrementalMerge.SupportedMethods)}");
            }
            return new MergedFitness(scorer, mergeMethod, parameters, inputs);
        }
        throw new EvolverException($"unknown fitness mode '{mode}'; modes: {string.Join(", ", Modes)}");
    }
}
