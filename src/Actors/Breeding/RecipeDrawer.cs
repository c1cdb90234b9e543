using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Tensors.Operators;

namespace EvolverActors.Actors.Breeding;

/// <summary>
/// Draws offspring n's recipe as a pure function of (run settings, n, the population it is bred from): every random
/// choice comes from seeds derived from (run seed, n) with a strong mixer, so runs with nearby seeds share no stream,
/// and a re-issued or resumed offspring n is the same recipe (docs/architecture.md §2).
/// </summary>
public static class RecipeDrawer
{
    // Streams that keep the uses of one run seed apart.
    private const ulong ChoiceStream = 0x6A09E667F3BCC909UL;
    private const ulong ChildStream = 0xBB67AE8584CAA73BUL;
    private const ulong RoundStream = 0x3C6EF372FE94F82BUL;

    public static Recipe Draw(RunSettings settings, MutationOperator op, long sequence, LedgerView from)
    {
        var slots = from.SlotWeights.Length;
        var target = Target(settings, sequence, slots);
        var rng = new Random(ToInt(Derive(settings.Seed, ChoiceStream, (ulong)sequence)));
        var parents = ParentSelection.Pick(op, target, from.SlotScores, rng);
        return Recipe.Create(sequence, target, from.SlotWeights[target], parents, [.. parents.Select(p => from.SlotWeights[p])],
            op.Name, settings.Breeding, Derive(settings.Seed, ChildStream, (ulong)sequence));
    }

    /// <summary>The slots in a random order per round of N offspring, a fresh order each round (as the reference loop visits them).</summary>
    public static int Target(RunSettings settings, long sequence, int slots)
    {
        var round = (ulong)(sequence / slots);
        var order = Enumerable.Range(0, slots).ToArray();
        new Random(ToInt(Derive(settings.Seed, RoundStream, round))).Shuffle(order);
        return order[sequence % slots];
    }

    /// <summary>SplitMix64 over the run seed, a stream and an index jointly: independent values for every (seed, index).</summary>
    private static ulong Derive(ulong seed, ulong stream, ulong index) =>
        CounterRng.SplitMix64(CounterRng.SplitMix64(seed ^ stream) ^ CounterRng.SplitMix64(index + stream));

    private static int ToInt(ulong value) => (int)(value & 0x7FFFFFFF);
}
