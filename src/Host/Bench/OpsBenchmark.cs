using System.Text.Json.Nodes;
using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench ops`: the Evolver operator with binomial crossover against torch copy_ of the same size
/// (the physical reference), and the incremental single-slot average merge against the best full rebuild.
/// </summary>
internal static class OpsBenchmark
{
    public static JsonObject Run(long parameters, int members, int repetitions, TextWriter log)
    {
        var threads = get_num_threads();
        log.WriteLine($"bench ops: {parameters:N0} float32 parameters, {members} members for the merge, {repetitions} repetitions, torch threads {threads}, cores {Environment.ProcessorCount}");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        using var target = SyntheticModel(parameters, seed: 1);
        using var reference = SyntheticModel(parameters, seed: 2);
        using var child = target.EmptyLike();
        child.CopyFrom(target); // fault the pages in before timing

        var op = OperatorRegistry.Get("evolver");
        var settings = new BreedingSettings { F = 0.5, CR = 0.5 };
        ulong seed = 0;
        // The copy reference is whichever is faster: copy_ tensor by tensor over the same layout, or one flat copy_.
        var flatSource = randn(parameters);
        var flatDestination = flatSource.clone();
        // Floor for comparison: the same traffic (two parents read, child written) with no random numbers at all.
        var times = Timing.InterleavedMedianMs(repetitions,
            () => OffspringBuilder.BuildInto(child, op, settings, ++seed, target, [reference]),
            () => child.CopyFrom(target),
            () => flatDestination.copy_(flatSource),
            () => TwoParentSum(child, target, reference));
        var (opMs, copyMs, floorMs) = (times[0], Math.Min(times[1], times[2]), times[3]);
        log.WriteLine($"copy_ per tensor {times[1]:F2} ms, one flat copy_ {times[2]:F2} ms: reference {copyMs:F2} ms");
        log.WriteLine($"same traffic without random numbers (fused 0.5·x + 0.5·ref): {floorMs:F2} ms; the operator takes {opMs / floorMs:F2}x that");
        var bytes = parameters * sizeof(float);
        // The operator reads two parents and writes the child; copy_ reads one tensor and writes one.
        var bandwidthRatio = (3.0 * bytes / opMs) / (2.0 * bytes / copyMs);
        log.WriteLine($"evolver op (binomial, CR 0.5): {opMs:F2} ms = {3.0 * bytes / opMs / 1e6:F1} GB/s; copy_: {copyMs:F2} ms = {2.0 * bytes / copyMs / 1e6:F1} GB/s; ratio {bandwidthRatio:F3}");

        var (rebuildMs, incrementalMs) = MergeBenchmark.Run(parameters, members, repetitions, log);
        return new JsonObject
        {
            ["bench"] = "ops",
            ["params"] = parameters,
            ["op_ms"] = Math.Round(opMs, 3),
            ["copy_ms"] = Math.Round(copyMs, 3),
            ["no_rng_floor_ms"] = Math.Round(floorMs, 3),
            ["bandwidth_ratio"] = Math.Round(bandwidthRatio, 3),
            ["rebuild_ms"] = Math.Round(rebuildMs, 3),
            ["incremental_ms"] = Math.Round(incrementalMs, 3),
            ["incremental_merge_speedup"] = Math.Round(rebuildMs / incrementalMs, 2),
        };
    }

    private static void TwoParentSum(WeightSet child, WeightSet target, WeightSet reference)
    {
        for (var t = 0; t < child.Count; t++)
        {
            LinearCombinationKernel.TryRun(child[t], [target[t], reference[t]], [0.5f, 0.5f]);
        }
    }

    /// <summary>A model-like layout: square matrices of about 1 M floats plus a remainder tensor.</summary>
    internal static WeightSet SyntheticModel(long parameters, long seed)
    {
        using var generator = new Generator((ulong)seed);
        const long Matrix = 1000 * 1000;
        var entries = new List<(string, Tensor)>();
        long remaining = parameters;
        for (var i = 0; remaining > 0; i++)
        {
            var size = Math.Min(Matrix, remaining);
            var shape = size == Matrix ? new long[] { 1000, 1000 } : [size];
            entries.Add(($"layers.{i}.weight", randn(shape, generator: generator)));
            remaining -= size;
        }
        return WeightSet.Adopt(entries);
    }
}
