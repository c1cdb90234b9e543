using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;

namespace EvolverActors.Host.Run;

/// <summary>
/// Rebuilds accepted members in acceptance order, holding each weight set exactly until its last use as an input
/// (a replay knows every access in advance; an LRU would evict the older populations later recipes were bred from and
/// rebuild them again and again). Each accepted member is rebuilt once and each starting member loaded once; the live
/// set is the population plus what the breeding lag still reads (docs/architecture.md §3).
/// </summary>
internal static class ReplayPlan
{
    /// <summary>
    /// Obtains every acceptance of <paramref name="recipes"/> through <paramref name="cache"/> and returns leases on
    /// <paramref name="keep"/> (the caller disposes them); <paramref name="step"/> is called after each acceptance.
    /// </summary>
    public static Dictionary<string, WeightLease> Run(ResidentWeights cache, IReadOnlyList<RecipeAccepted> recipes, IReadOnlyCollection<string> keep,
        Action<int>? step = null)
    {
        var lastUse = LastUses(recipes, keep);
        var held = new Dictionary<string, WeightLease>(StringComparer.Ordinal);
        try
        {
            for (var k = 0; k < recipes.Count; k++)
            {
                foreach (var id in recipes[k].Recipe.Inputs().Append(recipes[k].WeightsId).Where(id => !held.ContainsKey(id)).ToList())
                {
                    held[id] = cache.Acquire(id);
                }
                foreach (var id in held.Keys.Where(id => lastUse[id] <= k).ToList())
                {
                    held.Remove(id, out var lease);
                    lease!.Dispose();
                }
                step?.Invoke(k);
            }
            foreach (var id in keep.Where(id => !held.ContainsKey(id)))
            {
                held[id] = cache.Acquire(id);
            }
            return held;
        }
        catch
        {
            foreach (var lease in held.Values)
            {
                lease.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// The most weight sets <see cref="Run"/> holds at once (the replay's working set): as many buffers let it run
    /// without allocating after the first acceptance, when they are reserved up front.
    /// </summary>
    public static int PeakHeld(IReadOnlyList<RecipeAccepted> recipes, IReadOnlyCollection<string> keep)
    {
        var lastUse = LastUses(recipes, keep);
        var held = new HashSet<string>(StringComparer.Ordinal);
        var peak = 0;
        for (var k = 0; k < recipes.Count; k++)
        {
            held.UnionWith(recipes[k].Recipe.Inputs().Append(recipes[k].WeightsId));
            peak = Math.Max(peak, held.Count);
            held.RemoveWhere(id => lastUse[id] <= k);
        }
        held.UnionWith(keep);
        return Math.Max(peak, held.Count);
    }

    /// <summary>Each id's last acceptance as an input or output (<c>int.MaxValue</c> for the ids to keep).</summary>
    private static Dictionary<string, int> LastUses(IReadOnlyList<RecipeAccepted> recipes, IReadOnlyCollection<string> keep)
    {
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var k = 0; k < recipes.Count; k++)
        {
            foreach (var id in recipes[k].Recipe.Inputs().Append(recipes[k].WeightsId))
            {
                lastUse[id] = k;
            }
        }
        foreach (var id in keep)
        {
            lastUse[id] = int.MaxValue;
        }
        return lastUse;
    }
}
