using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// Scores through an external evaluator: writes the candidate to scratch, asks the evaluator, deletes the
/// candidate. Blocks its (dedicated) thread while the evaluator works.
/// </summary>
public sealed class ExternalCandidateScorer(ICheckpointScorer scorer, CandidateWriter writer, IReadOnlyCollection<string> splits) : ICandidateScorer
{
    public IReadOnlyCollection<string> SplitNames { get; } = splits;

    /// <summary>Milliseconds the last candidate took to write (for the evaluator benchmark).</summary>
    public double LastWriteMs { get; private set; }

    private Task _pendingDelete = Task.CompletedTask;

    public double Score(WeightSet weights, string split) => Score(weights, [split])[0];

    /// <summary>The candidate is written once and the evaluator asked for each split in turn.</summary>
    public IReadOnlyList<double> Score(WeightSet weights, IReadOnlyList<string> splits)
    {
        foreach (var split in splits)
        {
            if (!SplitNames.Contains(split, StringComparer.Ordinal))
            {
                throw new EvolverException($"evaluator '{scorer.Name}' is not configured to score split '{split}' (splits: {string.Join(", ", SplitNames)})");
            }
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var directory = writer.Write(weights);
        LastWriteMs = watch.Elapsed.TotalMilliseconds;
        try
        {
            return [.. splits.Select(split => scorer.ScoreAsync(new ScoreRequest(directory, split)).GetAwaiter().GetResult().Score)];
        }
        finally
        {
            // Off the scoring path: freeing a large file takes milliseconds the evaluator need not wait for.
            _pendingDelete = Task.Run(() => CandidateWriter.Delete(directory));
        }
    }

    public void Dispose()
    {
        _pendingDelete.Wait();
        scorer.Dispose();
        writer.Dispose();
    }
}
