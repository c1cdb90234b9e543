namespace EvolverActors.Tensors.Operators;

/// <summary>
/// Everything needed to rebuild one offspring exactly: which slot it targets, its parents (slot indices, in the
/// operator's role order), the operator, its settings and the seed. Lineage records store this.
/// </summary>
public sealed record OffspringRecipe(int Target, int[] Parents, string Operator, BreedingSettings Settings, ulong Seed)
{
    /// <summary>Draws a recipe: parents from <paramref name="rng"/>, the offspring's own seed from it too.</summary>
    public static OffspringRecipe Draw(MutationOperator op, BreedingSettings settings, int target,
        IReadOnlyList<double> fitness, Random rng) =>
        Draw(op, settings, target, fitness, rng, op is EvolverOperator evolver ? evolver.BestProbability : 0);

    /// <summary>
    /// Draws a recipe with this offspring's chance that x_ref is the best other member (e.g.
    /// <see cref="BestProbabilitySchedule.For"/>); <paramref name="rng"/> is typically
    /// <see cref="CounterRng.OffspringRandom"/> of the run seed and the offspring's index.
    /// </summary>
    public static OffspringRecipe Draw(MutationOperator op, BreedingSettings settings, int target,
        IReadOnlyList<double> fitness, Random rng, double bestProbability)
    {
        settings.Validated(op);
        var parents = ParentSelection.Pick(op, target, fitness, rng, bestProbability);
        var seed = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        return new OffspringRecipe(target, parents, op.Name, settings, seed);
    }

    /// <summary>Builds the child into a preallocated buffer from the population's current weights.</summary>
    public void BuildInto(Weights.WeightSet child, MutationOperator op, IReadOnlyList<Weights.WeightSet> population,
        Weights.WeightSet? baseWeights = null, KernelPath path = KernelPath.Auto)
    {
        if (op.Name != Operator)
        {
            throw new ArgumentException($"recipe is for operator '{Operator}', not '{op.Name}'", nameof(op));
        }
        OffspringBuilder.BuildInto(child, op, Settings, Seed, population[Target],
            [.. Parents.Select(p => population[p])], baseWeights, path);
    }
}
