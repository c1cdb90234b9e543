namespace EvolverActors.Host.Experiment;

/// <summary>A score over seeds: the mean and the sample standard deviation (n − 1; 0 for one seed).</summary>
internal sealed record MeanStd(double Mean, double Std)
{
    public static MeanStd Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return new MeanStd(double.NaN, double.NaN);
        }
        var mean = values.Average();
        if (values.Count == 1)
        {
            return new MeanStd(mean, 0);
        }
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return new MeanStd(mean, Math.Sqrt(variance));
    }
}

/// <summary>Picks, among hyper-parameter candidates, the one with the best dev score (the first on ties).</summary>
internal static class DevSelection
{
    public static (T Best, double Dev, int Evaluated) Best<T>(IReadOnlyList<T> candidates, Func<T, double> devScore)
    {
        if (candidates.Count == 0)
        {
            throw new ArgumentException("no candidates to select from", nameof(candidates));
        }
        var best = candidates[0];
        var bestDev = double.NegativeInfinity;
        foreach (var candidate in candidates)
        {
            var dev = devScore(candidate);
            if (dev > bestDev)
            {
                best = candidate;
                bestDev = dev;
            }
        }
        return (best, bestDev, candidates.Count);
    }
}
