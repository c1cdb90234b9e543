using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Tensors.Operators;

namespace EvolverActors.Actors.Breeding;

/// <summary>
/// Draws offspring n's recipe as a pure function of (run settings, n, the population it is bred from): the target
/// comes from the run's target order, the parents from a generator seeded by (run seed, n) through a strong mixer
/// (<see cref="CounterRng.OffspringSeed"/>), with the best-probability of n's place in the budget (the reference
/// schedule in individual mode), and the child's seed from the same generator. So runs with nearby seeds share no
/// stream, and a re-issued or resumed offspring n is the same recipe (docs/architecture.md §2).
/// </summary>
public static class RecipeDrawer
{
    public static Recipe Draw(RunSettings settings, MutationOperator op, long sequence, LedgerView from)
    {
        // Drawn among the slots in the population (all of them unless some were retired), then named by slot index.
        var active = from.ActiveSlots();
        var scores = active.Select(slot => from.SlotScores[slot]).ToArray();
        var local = settings.TargetFor(sequence, active.Length);
        var rng = CounterRng.OffspringRandom(settings.Seed, sequence);
        var parents = ParentSelection.Pick(op, local, scores, rng, settings.BestProbabilityFor(sequence, active.Length))
            .Select(p => active[p]).ToArray();
        var target = active[local];
        var seed = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        return Recipe.Create(sequence, target, from.SlotWeights[target], parents, [.. parents.Select(p => from.SlotWeights[p])],
            op.Name, settings.Breeding, seed);
    }
}
