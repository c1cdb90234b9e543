using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Bench;

/// <summary>
/// Full average rebuild over N members (the best in-place one: a single fused pass) against the incremental
/// single-slot update (merged += (child − x_i)/N): O(N·P) against O(P).
/// </summary>
internal static class MergeBenchmark
{
    public static (double RebuildMs, double IncrementalMs) Run(long parameters, int members, int repetitions, TextWriter log)
    {
        var population = new List<WeightSet>();
        try
        {
            for (var i = 0; i < members; i++)
            {
                population.Add(OpsBenchmark.SyntheticModel(parameters, seed: 100 + i));
            }
            using var child = OpsBenchmark.SyntheticModel(parameters, seed: 99);
            using var incremental = IncrementalMerge.Create("average", population, MergeInputs.None);
            using var rebuilt = population[0].EmptyLike();
            var slot = 0;
            // Alternate the child in and out of a slot so the merged value stays bounded across repetitions.
            var childIn = false;
            var times = Timing.InterleavedMedianMs(repetitions,
                () => AverageMerge.RebuildInto(rebuilt, population),
                () =>
                {
                    var (oldWeights, newWeights) = childIn ? (child, population[slot]) : (population[slot], child);
                    incremental.Replace(slot, oldWeights, newWeights);
                    childIn = !childIn;
                });
            log.WriteLine($"average merge, {members} members: full rebuild {times[0]:F2} ms, incremental single-slot update {times[1]:F2} ms, speedup {times[0] / times[1]:F2}");
            return (times[0], times[1]);
        }
        finally
        {
            foreach (var member in population)
            {
                member.Dispose();
            }
        }
    }
}
