namespace EvolverActors.Tensors.Operators;

/// <summary>Picks the parents an operator needs for one target, from a seeded generator.</summary>
public static class ParentSelection
{
    /// <summary>
    /// Returns member indices aligned with <see cref="MutationOperator.Roles"/>. Random roles are distinct from the
    /// target and from each other; Best is the highest-fitness member (the target included, as in DE/best/1).
    /// </summary>
    public static int[] Pick(MutationOperator op, int target, IReadOnlyList<double> fitness, Random rng)
    {
        var n = fitness.Count;
        if (n < op.MinimumPopulation)
        {
            throw new EvolverException($"operator '{op.Name}' needs a population of at least {op.MinimumPopulation}, got {n}");
        }
        if ((uint)target >= (uint)n)
        {
            throw new ArgumentOutOfRangeException(nameof(target), $"target {target} is not a slot of a population of {n}");
        }
        var used = new HashSet<int> { target };
        var parents = new int[op.Roles.Count];
        for (var k = 0; k < parents.Length; k++)
        {
            parents[k] = op.Roles[k] switch
            {
                ParentRole.Best => ArgMax(fitness, exclude: -1),
                ParentRole.Reference when op is EvolverOperator { BestProbability: > 0 } evolver
                    && rng.NextDouble() < evolver.BestProbability => ArgMax(fitness, exclude: target),
                _ => DrawDistinct(n, used, rng),
            };
            used.Add(parents[k]);
        }
        return parents;
    }

    private static int DrawDistinct(int n, HashSet<int> used, Random rng)
    {
        while (true)
        {
            var candidate = rng.Next(n);
            if (!used.Contains(candidate))
            {
                return candidate;
            }
        }
    }

    private static int ArgMax(IReadOnlyList<double> fitness, int exclude)
    {
        var best = -1;
        for (var i = 0; i < fitness.Count; i++)
        {
            if (i != exclude && (best < 0 || fitness[i] > fitness[best]))
            {
                best = i;
            }
        }
        return best;
    }
}
