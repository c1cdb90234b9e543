using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// Scores one weight set on a split: the one thing both fitness modes need from an evaluator. Built in: a resident
/// model of the task's family (<c>ResidentScorer</c>, Tensors.Tasks); external: the candidate written as a
/// checkpoint and scored by the lab's own harness (<c>ExternalCandidateScorer</c>, Tensors.IO). One owner thread.
/// </summary>
public interface ICandidateScorer : IDisposable
{
    /// <summary>The splits it can score; selection needs <c>dev</c>.</summary>
    IReadOnlyCollection<string> SplitNames { get; }

    /// <summary>The score (higher is better) of <paramref name="weights"/> on <paramref name="split"/>.</summary>
    double Score(WeightSet weights, string split);

    /// <summary>
    /// The scores of <paramref name="weights"/> on each of <paramref name="splits"/> (dev and the guard), in order. A
    /// scorer that can load or write the weights once for all of them does (the resident and external scorers).
    /// </summary>
    IReadOnlyList<double> Score(WeightSet weights, IReadOnlyList<string> splits) => [.. splits.Select(split => Score(weights, split))];
}
