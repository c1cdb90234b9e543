namespace EvolverActors.Host.Experiment;

/// <summary>
/// Method <see cref="A"/> against method <see cref="B"/> on one split, paired by seed (both ran on the same zoo and
/// data): the mean of the per-seed differences a − b, a 95 % percentile-bootstrap confidence interval of that mean, and
/// how many seeds a won, tied (equal scores) or lost.
/// </summary>
internal sealed record PairedComparison(string A, string B, string Split, double MeanDiff, double CiLow, double CiHigh, int Wins, int Ties, int Losses)
{
    /// <summary>Bootstrap resamples: enough that the interval's ends move by less than a tenth of a point between seeds of the resampler.</summary>
    public const int Resamples = 10_000;

    /// <summary>The resampler's seed: the same per-seed scores always give the same interval.</summary>
    private const int BootstrapSeed = 20_240_612;

    /// <summary>Differences smaller than this are ties (scores are ratios of example counts; this only absorbs rounding).</summary>
    private const double TieTolerance = 1e-12;

    /// <summary>The comparison of <paramref name="a"/> with <paramref name="b"/>, from their per-seed differences a − b (at least one).</summary>
    public static PairedComparison Of(string a, string b, string split, IReadOnlyList<double> differences)
    {
        if (differences.Count == 0)
        {
            throw new ArgumentException($"no seeds in common between '{a}' and '{b}'", nameof(differences));
        }
        var (low, high) = BootstrapInterval(differences);
        return new PairedComparison(a, b, split, differences.Average(), low, high,
            differences.Count(d => d > TieTolerance), differences.Count(d => Math.Abs(d) <= TieTolerance), differences.Count(d => d < -TieTolerance));
    }

    /// <summary>
    /// The comparisons a reader asks for (docs/RESULTS.md): every Evolver+X against X, and every Evolver variant against
    /// the best merge, the merge with the best mean dev score (chosen on dev, like everything else), on test and ood.
    /// With a <paramref name="search"/> (the evolved-coefficient merge), the paper's two Evolver forms are also compared
    /// with it. Methods are paired on the seeds both have.
    /// </summary>
    public static IReadOnlyList<PairedComparison> Compare(IReadOnlyList<SeedResult> results, IReadOnlyCollection<string> merges, string? search = null)
    {
        var byMethod = results.GroupBy(r => r.Method, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var pairs = new List<(string A, string B)>();
        foreach (var merge in merges.Where(byMethod.ContainsKey))
        {
            if (byMethod.ContainsKey(EvolverOf(merge)))
            {
                pairs.Add((EvolverOf(merge), merge));
            }
            if (byMethod.ContainsKey(EvolverOf(merge) + GuardSuffix))
            {
                pairs.Add((EvolverOf(merge) + GuardSuffix, merge));
            }
        }
        // The guard against the plain rule, at the same budget (docs/architecture.md §1, "The guard").
        foreach (var guarded in byMethod.Keys.Where(m => m.EndsWith(GuardSuffix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            if (byMethod.ContainsKey(guarded[..^GuardSuffix.Length]))
            {
                pairs.Add((guarded, guarded[..^GuardSuffix.Length]));
            }
        }
        if (search is not null && byMethod.ContainsKey(search))
        {
            pairs.AddRange(new[] { "evolver-individual", EvolverOf("average") }.Where(byMethod.ContainsKey).Select(a => (a, search)));
        }
        var bestMerge = merges.Where(byMethod.ContainsKey).OrderByDescending(m => byMethod[m].Average(r => r.Dev)).FirstOrDefault();
        if (bestMerge is not null)
        {
            foreach (var variant in byMethod.Keys.Where(IsEvolver))
            {
                if (!pairs.Contains((variant, bestMerge)))
                {
                    pairs.Add((variant, bestMerge));
                }
            }
        }
        var comparisons = new List<PairedComparison>();
        foreach (var (a, b) in pairs)
        {
            var seeds = byMethod[a].Select(r => r.Seed).Intersect(byMethod[b].Select(r => r.Seed)).Order().ToList();
            if (seeds.Count == 0)
            {
                continue;
            }
            foreach (var (split, score) in new (string, Func<SeedResult, double>)[] { ("test", r => r.Test), ("ood", r => r.Ood) })
            {
                var differences = seeds.Select(seed => score(byMethod[a].First(r => r.Seed == seed)) - score(byMethod[b].First(r => r.Seed == seed))).ToList();
                comparisons.Add(Of(a, b, split, differences));
            }
        }
        return comparisons;
    }

    /// <summary>What an Evolver method's name ends with when its run has the dev guard.</summary>
    public const string GuardSuffix = "+guard";

    /// <summary>The Evolver method that starts from merge <paramref name="merge"/> (its population fused by it).</summary>
    public static string EvolverOf(string merge) => "evolver+" + merge;

    /// <summary>Whether <paramref name="method"/> is an Evolver run (any mode or schedule).</summary>
    public static bool IsEvolver(string method) => method.StartsWith("evolver", StringComparison.Ordinal);

    /// <summary>The 2.5 and 97.5 percentiles of the mean over <see cref="Resamples"/> resamples with replacement.</summary>
    private static (double Low, double High) BootstrapInterval(IReadOnlyList<double> differences)
    {
        var random = new Random(BootstrapSeed);
        var means = new double[Resamples];
        for (var i = 0; i < Resamples; i++)
        {
            var sum = 0.0;
            for (var k = 0; k < differences.Count; k++)
            {
                sum += differences[random.Next(differences.Count)];
            }
            means[i] = sum / differences.Count;
        }
        Array.Sort(means);
        return (Percentile(means, 0.025), Percentile(means, 0.975));
    }

    /// <summary>Linear interpolation between the closest ranks of sorted <paramref name="values"/>.</summary>
    private static double Percentile(double[] values, double p)
    {
        var rank = p * (values.Length - 1);
        var below = (int)Math.Floor(rank);
        var above = Math.Min(below + 1, values.Length - 1);
        return values[below] + (rank - below) * (values[above] - values[below]);
    }
}
