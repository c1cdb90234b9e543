using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// Scores one weight set on a split: the one thing both fitness modes need from an evaluator. Built in: a resident
/// model of the task's family (<see cref="ResidentScorer"/>); external: the candidate written as a checkpoint and
/// scored by the lab's own harness (<see cref="ExternalCandidateScorer"/>). One owner thread.
/// </summary>
public interface ICandidateScorer : IDisposable
{
    /// <summary>The splits it can score; selection needs <c>dev</c>.</summary>
    IReadOnlyCollection<string> SplitNames { get; }

    /// <summary>The score (higher is better) of <paramref name="weights"/> on <paramref name="split"/>.</summary>
    double Score(WeightSet weights, string split);
}

/// <summary>The built-in scorer: copies the weights into a resident model skeleton and reads the task's metric.</summary>
public sealed class ResidentScorer(ResidentEvaluator evaluator, Metric metric) : ICandidateScorer
{
    public ResidentEvaluator Evaluator { get; } = evaluator;
    public Metric Metric { get; } = metric;
    public IReadOnlyCollection<string> SplitNames => Evaluator.SplitNames;

    public double Score(WeightSet weights, string split)
    {
        Evaluator.Load(weights);
        return Evaluator.Evaluate(split).Get(Metric);
    }

    public void Dispose() => Evaluator.Dispose();
}

/// <summary>
/// Scores through an external evaluator: writes the candidate to scratch, asks the evaluator, deletes the
/// candidate. Blocks its (dedicated) thread while the evaluator works.
/// </summary>
public sealed class ExternalCandidateScorer(ICheckpointScorer scorer, CandidateWriter writer, IReadOnlyCollection<string> splits) : ICandidateScorer
{
    public IReadOnlyCollection<string> SplitNames { get; } = splits;
    public ICheckpointScorer Scorer => scorer;

    /// <summary>Milliseconds the last candidate took to write (for the evaluator benchmark).</summary>
    public double LastWriteMs { get; private set; }

    public double Score(WeightSet weights, string split)
    {
        if (!SplitNames.Contains(split, StringComparer.Ordinal))
        {
            throw new EvolverException($"evaluator '{scorer.Name}' is not configured to score split '{split}' (splits: {string.Join(", ", SplitNames)})");
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var directory = writer.Write(weights);
        LastWriteMs = watch.Elapsed.TotalMilliseconds;
        try
        {
            return scorer.ScoreAsync(new ScoreRequest(directory, split)).GetAwaiter().GetResult().Score;
        }
        finally
        {
            CandidateWriter.Delete(directory);
        }
    }

    public void Dispose()
    {
        scorer.Dispose();
        writer.Dispose();
    }
}
