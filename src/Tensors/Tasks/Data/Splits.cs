namespace EvolverActors.Tensors.Data;

/// <summary>
/// Seeded ways to cut a labelled set: stratified splits (train/dev/test), label-skewed Dirichlet partitions
/// across clients (the non-IID protocol of federated learning), and class-balanced subsets. Same inputs and
/// seed give the same indices on every machine: only <see cref="System.Random"/> with an explicit seed is used.
/// Index lists come back shuffled, so a part of a class-ordered set (MNIST) is not class-ordered itself.
/// </summary>
public static class Splits
{
    /// <summary>
    /// Splits <paramref name="set"/> into parts named and sized by <paramref name="parts"/> (fractions summing to
    /// 1), keeping each class's share in every part: each class is shuffled and cut by the fractions, with
    /// rounding against running totals so part sizes match the fractions and every example lands in exactly one part.
    /// </summary>
    public static IReadOnlyDictionary<string, T> Stratified<T>(T set, IReadOnlyList<(string Name, double Fraction)> parts, int seed)
        where T : LabelledSet
    {
        var indices = StratifiedIndices(set.Labels, set.ClassCount, [.. parts.Select(p => p.Fraction)], seed);
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        for (var p = 0; p < parts.Count; p++)
        {
            if (!result.TryAdd(parts[p].Name, (T)set.Subset($"{set.Name}-{parts[p].Name}", indices[p])))
            {
                throw new ArgumentException($"part name '{parts[p].Name}' appears twice", nameof(parts));
            }
        }
        return result;
    }

    /// <summary>The index lists behind <see cref="Stratified{T}"/>, one per fraction.</summary>
    public static int[][] StratifiedIndices(IReadOnlyList<int> labels, int classCount, IReadOnlyList<double> fractions, int seed)
    {
        if (fractions.Count == 0 || fractions.Any(f => f < 0 || double.IsNaN(f)) || Math.Abs(fractions.Sum() - 1) > 1e-6)
        {
            throw new ArgumentException($"fractions must be non-negative and sum to 1, got [{string.Join(", ", fractions)}]", nameof(fractions));
        }
        var random = new Random(seed);
        var parts = fractions.Select(_ => new List<int>()).ToArray();
        var seen = 0;
        foreach (var members in ByClass(labels, classCount))
        {
            Shuffle(members, random);
            seen += members.Count;
            // Aim at the running totals, so per-class rounding cannot drift a part's size away from its fraction.
            var wanted = fractions.Select((f, p) => f * seen - parts[p].Count).ToArray();
            var counts = Apportion(members.Count, wanted);
            var start = 0;
            for (var p = 0; p < parts.Length; p++)
            {
                parts[p].AddRange(members.GetRange(start, counts[p]));
                start += counts[p];
            }
        }
        return [.. parts.Select(p => ShuffledArray(p, random))];
    }

    /// <summary>
    /// Label-skewed partition of all examples into <paramref name="clients"/> parts (Hsu, Qi and Brown 2019,
    /// https://arxiv.org/abs/1909.06335): for each class, proportions p ~ Dir(α·1_K) are drawn and the class's
    /// shuffled examples are cut at the cumulative proportions. Small α gives clients dominated by few
    /// classes; large α approaches an IID split. When <paramref name="minPerClient"/> is positive the draw is
    /// repeated until every client holds at least that many examples, as common implementations do.
    /// </summary>
    public static int[][] Dirichlet(IReadOnlyList<int> labels, int classCount, int clients, double alpha, int seed, int minPerClient = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clients, 1);
        if (!(alpha > 0) || double.IsInfinity(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "concentration must be positive and finite");
        }
        if ((long)minPerClient * clients > labels.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(minPerClient), minPerClient,
                $"{clients} clients of at least {minPerClient} need more than {labels.Count} examples");
        }
        var random = new Random(seed);
        var classes = ByClass(labels, classCount);
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var parts = Enumerable.Range(0, clients).Select(_ => new List<int>()).ToArray();
            foreach (var members in classes)
            {
                Shuffle(members, random);
                var p = DirichletSample(random, alpha, clients);
                var start = 0;
                var cumulative = 0.0;
                for (var k = 0; k < clients; k++)
                {
                    cumulative += p[k];
                    // The last client takes the rest, so rounding can never drop or repeat an example.
                    var end = k == clients - 1 ? members.Count : Math.Min(members.Count, (int)(cumulative * members.Count));
                    end = Math.Max(end, start);
                    parts[k].AddRange(members.GetRange(start, end - start));
                    start = end;
                }
            }
            if (parts.All(p => p.Count >= minPerClient))
            {
                return [.. parts.Select(p => ShuffledArray(p, random))];
            }
        }
        throw new EvolverException($"no Dirichlet(α={alpha}) partition into {clients} clients gave each at least {minPerClient} examples in 1000 draws");
    }

    /// <summary>The sets of a <see cref="Dirichlet"/> partition, named <c>&lt;set&gt;-client&lt;k&gt;</c>.</summary>
    public static IReadOnlyList<T> DirichletPartition<T>(T set, int clients, double alpha, int seed, int minPerClient = 0)
        where T : LabelledSet =>
        [.. Dirichlet(set.Labels, set.ClassCount, clients, alpha, seed, minPerClient)
            .Select((indices, k) => (T)set.Subset($"{set.Name}-client{k}", indices))];

    /// <summary>
    /// <paramref name="perClass"/> random examples of every class (shuffled together); fails when a class
    /// has fewer, rather than returning an unbalanced set.
    /// </summary>
    public static T BalancedSubset<T>(T set, int perClass, int seed) where T : LabelledSet
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perClass);
        var random = new Random(seed);
        var chosen = new List<int>(perClass * set.ClassCount);
        var classes = ByClass(set.Labels, set.ClassCount);
        for (var c = 0; c < classes.Length; c++)
        {
            if (classes[c].Count < perClass)
            {
                throw new EvolverException($"{set.Name}: class '{set.ClassNames[c]}' has {classes[c].Count} examples, fewer than the {perClass} asked for");
            }
            Shuffle(classes[c], random);
            chosen.AddRange(classes[c].GetRange(0, perClass));
        }
        return (T)set.Subset($"{set.Name}-balanced{perClass}", ShuffledArray(chosen, random));
    }

    /// <summary>One draw of Dir(α·1_K), computed from log-Gamma variates so that tiny α cannot underflow to 0/0.</summary>
    internal static double[] DirichletSample(Random random, double alpha, int k)
    {
        var logs = new double[k];
        for (var i = 0; i < k; i++)
        {
            logs[i] = LogGamma(random, alpha);
        }
        var max = logs.Max();
        var weights = logs.Select(l => Math.Exp(l - max)).ToArray();
        var sum = weights.Sum();
        return [.. weights.Select(w => w / sum)];
    }

    /// <summary>
    /// log of a Gamma(shape, 1) variate by Marsaglia and Tsang (2000); for shape &lt; 1 it uses
    /// Gamma(a) = Gamma(a + 1)·U^(1/a), kept in log space.
    /// </summary>
    internal static double LogGamma(Random random, double shape)
    {
        if (shape < 1)
        {
            var u = 1.0 - random.NextDouble(); // (0, 1]
            return LogGamma(random, shape + 1) + Math.Log(u) / shape;
        }
        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = StandardNormal(random);
                v = 1.0 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            var u = random.NextDouble();
            if (u < 1.0 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1.0 - v + Math.Log(v)))
            {
                return Math.Log(d * v);
            }
        }
    }

    private static double StandardNormal(Random random)
    {
        // Box–Muller; System.Random has no normal sampler and its own algorithm is fixed for a given seed.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static List<int>[] ByClass(IReadOnlyList<int> labels, int classCount)
    {
        var classes = Enumerable.Range(0, classCount).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < labels.Count; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"label {labels[i]} at {i} is outside 0..{classCount - 1}", nameof(labels));
            }
            classes[labels[i]].Add(i);
        }
        return classes;
    }

    /// <summary>Whole counts summing to <paramref name="n"/>, each as close as it can be to its wanted share.</summary>
    private static int[] Apportion(int n, double[] wanted)
    {
        var counts = wanted.Select(w => (int)Math.Floor(Math.Max(0, w))).ToArray();
        while (counts.Sum() < n)
        {
            counts[Enumerable.Range(0, counts.Length).MaxBy(p => wanted[p] - counts[p])]++;
        }
        while (counts.Sum() > n)
        {
            counts[Enumerable.Range(0, counts.Length).Where(p => counts[p] > 0).MinBy(p => wanted[p] - counts[p])]--;
        }
        return counts;
    }

    private static void Shuffle(List<int> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static int[] ShuffledArray(List<int> items, Random random)
    {
        Shuffle(items, random);
        return [.. items];
    }
}
