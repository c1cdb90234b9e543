namespace EvolverActors.Tensors.Operators;

/// <summary>Picks the parents an operator needs for one target, from a seeded generator.</summary>
public static class ParentSelection
{
    /// <summary>
    /// Returns member indices aligned with <see cref="MutationOperator.Roles"/>. Random roles are distinct from the
    /// target and from each other; Best is the highest-fitness member (the target included, as in DE/best/1).
    /// The Evolver operator's reference is the best other member with the operator's fixed
    /// <see cref="EvolverOperator.BestProbability"/>, else a random other member.
    /// </summary>
    public static int[] Pick(MutationOperator op, int target, IReadOnlyList<double> fitness, Random rng) =>
        Pick(op, target, fitness, rng, op is EvolverOperator evolver ? evolver.BestProbability : 0);

    /// <summary>
    /// As <see cref="Pick(MutationOperator, int, IReadOnlyList{double}, Random)"/>, with the chance that a
    /// <see cref="ParentRole.Reference"/> is the best other member (argmax of fitness without the target) given for
    /// this offspring, e.g. from <see cref="BestProbabilitySchedule.For"/>; it replaces the operator's fixed value.
    /// One number is drawn from <paramref name="rng"/> per reference role when p &gt; 0 (none when p = 0), as before
    /// the schedule existed, so a constant p replays the same stream.
    /// </summary>
    public static int[] Pick(MutationOperator op, int target, IReadOnlyList<double> fitness, Random rng, double bestProbability)
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
        if (!(bestProbability is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(bestProbability), $"best-probability = {bestProbability} is not in [0, 1]");
        }
        var used = new HashSet<int> { target };
        var parents = new int[op.Roles.Count];
        for (var k = 0; k < parents.Length; k++)
        {
            parents[k] = op.Roles[k] switch
            {
                ParentRole.Best => ArgMax(fitness, exclude: -1),
                ParentRole.Reference when bestProbability > 0 && rng.NextDouble() < bestProbability => ArgMax(fitness, exclude: target),
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
