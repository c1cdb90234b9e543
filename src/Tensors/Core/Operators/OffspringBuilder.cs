using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Operators;

/// <summary>Which implementation makes element-wise binomial crossover.</summary>
public enum KernelPath
{
    /// <summary>The fused SIMD kernel for contiguous float32, float16 and bfloat16 CPU tensors (bit-identical whatever the
    /// thread count); torch's kernels otherwise (CUDA, float64, non-contiguous).</summary>
    Auto,

    /// <summary>Always torch's kernels for element-wise binomial crossover (what CUDA devices run): a torch
    /// <c>Generator</c> mask, so a different child than <see cref="Auto"/> for the same seed; used to check both paths
    /// agree in distribution.</summary>
    Torch,
}

/// <summary>
/// Makes one offspring: mutant from the operator's linear combination, then crossover with the target,
/// written into a preallocated child of the same layout. Never modifies the target or the parents.
/// Reproducibility (docs/architecture.md §1): on the CPU every path (element, tensor and layer granularity, binomial
/// and exponential, j_rand) computes masks with <see cref="CounterRng"/> and mutants with <see cref="FusedCpuKernel"/>'s
/// float32 arithmetic, so a recipe rebuilds the same bits whatever the thread count, for float32, float16 and bfloat16.
/// Children of CUDA tensors use torch's kernels and a torch generator: reproducible on the same device and build at
/// best, and not equal to the CPU child. Lineage replays must therefore materialize children on the CPU, and a device
/// kernel that should stand in for the CPU one has to implement the same hash, mask threshold and fused multiply-add
/// order, and be checked bit for bit against it.
/// </summary>
public static unsafe class OffspringBuilder
{
    // Stream ids that keep the seed's uses apart (per-tensor element streams use the tensor index).
    private const ulong UnitStream = 1UL << 40;
    private const ulong JRandStream = 2UL << 40;
    private const ulong ExponentialStartStream = 3UL << 40;
    private const ulong ExponentialLengthStream = 4UL << 40;

    public static WeightSet Build(MutationOperator op, BreedingSettings settings, ulong seed, WeightSet target,
        IReadOnlyList<WeightSet> parents, WeightSet? baseWeights = null, KernelPath path = KernelPath.Auto)
    {
        var child = target.EmptyLike();
        try
        {
            BuildInto(child, op, settings, seed, target, parents, baseWeights, path);
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    public static void BuildInto(WeightSet child, MutationOperator op, BreedingSettings settings, ulong seed,
        WeightSet target, IReadOnlyList<WeightSet> parents, WeightSet? baseWeights = null, KernelPath path = KernelPath.Auto)
    {
        settings.Validated(op);
        if (parents.Count != op.Roles.Count)
        {
            throw new ArgumentException($"operator '{op.Name}' takes {op.Roles.Count} parents, got {parents.Count}", nameof(parents));
        }
        var plan = new MutantPlan(op, settings, target, parents, baseWeights);
        WeightLayout.RequireSame(target.Layout, "target", child.Layout, "child buffer");
        foreach (var (set, label) in plan.Sources.Select((s, i) => (s, $"source {i}")))
        {
            WeightLayout.RequireSame(target.Layout, "target", set.Layout, label);
        }

        var included = Enumerable.Range(0, target.Count)
            .Where(t => DTypes.IsFloating(target[t].dtype) && settings.Exclude?.IsMatch(target.Names[t]) != true)
            .ToArray();
        var includedSet = included.ToHashSet();
        for (var t = 0; t < target.Count; t++)
        {
            if (!includedSet.Contains(t))
            {
                child[t].copy_(target[t]);
                plan.ReleasePages(t);
            }
        }
        if (included.Length == 0)
        {
            return;
        }

        if (settings.Crossover == CrossoverKind.Binomial)
        {
            Binomial(child, plan, settings, seed, included, path);
        }
        else
        {
            Exponential(child, plan, settings, seed, included);
        }
    }

    private static void Binomial(WeightSet child, MutantPlan plan, BreedingSettings settings, ulong seed, int[] included, KernelPath path)
    {
        if (settings.Granularity == Granularity.Element)
        {
            // The fused tensors run as one parallel loop over the whole set, the others one by one through torch; but
            // memory-mapped parents are streamed, one tensor's pages resident at a time, so each tensor runs on its own.
            var fused = new List<FusedCpuKernel.Job>();
            var streamed = plan.IsMapped;
            foreach (var t in included)
            {
                if (streamed)
                {
                    plan.PrefetchPages(t);
                }
                if (FusedJob(child[t], plan, t, settings.CR, seed, path) is { } job)
                {
                    fused.Add(job);
                }
                else
                {
                    TorchBinomial(child[t], plan, t, settings.CR, seed, path);
                }
                if (streamed)
                {
                    FusedCpuKernel.Binomial(fused);
                    fused.Clear();
                    plan.ReleasePages(t);
                }
            }
            FusedCpuKernel.Binomial(fused);
            if (settings.GuaranteeJRand)
            {
                var total = included.Sum(t => child[t].numel());
                var (t, offset) = Locate(child, included, CounterRng.Below(seed, JRandStream, total));
                plan.WriteMutant(child[t].view(-1).narrow(0, offset, 1), t, offset, 1);
            }
            return;
        }

        var units = CrossoverUnits.Assign([.. included.Select(t => child.Names[t])], settings.Granularity, out var unitCount);
        var forced = settings.GuaranteeJRand ? (int)CounterRng.Below(seed, JRandStream, unitCount) : -1;
        var key = CounterRng.StreamKey(seed, UnitStream);
        for (var i = 0; i < included.Length; i++)
        {
            var unit = units[i];
            var takeMutant = unit == forced || CounterRng.Uniform(key, (uint)unit) < settings.CR;
            CopyUnit(child, plan, included[i], takeMutant);
            plan.ReleasePages(included[i]);
        }
    }

    /// <summary>The fused kernel's work for tensor <paramref name="t"/>, or null where torch's kernels must make it.</summary>
    private static FusedCpuKernel.Job? FusedJob(Tensor child, MutantPlan plan, int t, double cr, ulong seed, KernelPath path)
    {
        var n = child.numel();
        if (path != KernelPath.Auto || n > uint.MaxValue || !plan.FusedEligible(child, t))
        {
            return null;
        }
        var sources = new nint[plan.Sources.Count];
        for (var k = 0; k < sources.Length; k++)
        {
            sources[k] = (nint)TensorMemory.BytePointer(plan.Sources[k][t]);
        }
        return new FusedCpuKernel.Job(child.dtype, (nint)TensorMemory.BytePointer(child), (nint)TensorMemory.BytePointer(plan.Target[t]),
            sources, plan.Coefficients, n, CounterRng.StreamKey(seed, (ulong)t), CounterRng.Threshold(cr));
    }

    private static void TorchBinomial(Tensor child, MutantPlan plan, int t, double cr, ulong seed, KernelPath path)
    {
        var n = child.numel();
        // Torch path (CUDA devices, float64, KernelPath.Torch): mutant into the child, then pull the target back in
        // where the mask says "keep". lerp_ with weights exactly 0 or 1 returns either end exactly.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        plan.WriteMutant(child.view(-1), t, 0, n, allowFused: path == KernelPath.Auto);
        using var generator = new Generator(CounterRng.SplitMix64(seed ^ CounterRng.SplitMix64((ulong)t)), child.device);
        var keepTarget = empty_like(child).uniform_(0, 1, generator).ge_(cr);
        child.lerp_(plan.Target[t], keepTarget);
    }

    private static void Exponential(WeightSet child, MutantPlan plan, BreedingSettings settings, ulong seed, int[] included)
    {
        var elementWise = settings.Granularity == Granularity.Element;
        var units = elementWise ? null : CrossoverUnits.Assign([.. included.Select(t => child.Names[t])], settings.Granularity, out _);
        long unitCount = elementWise ? included.Sum(t => child[t].numel()) : units!.Max() + 1;

        // DE's exponential crossover: from a random start, copy L consecutive units, L = 1 + successes of u < CR.
        var start = CounterRng.Below(seed, ExponentialStartStream, unitCount);
        var lengthKey = CounterRng.StreamKey(seed, ExponentialLengthStream);
        long length = 1;
        while (length < unitCount && CounterRng.Uniform(lengthKey, (uint)length) < settings.CR)
        {
            length++;
        }
        bool InRun(long unit) => (unit - start + unitCount) % unitCount < length;

        if (!elementWise)
        {
            for (var i = 0; i < included.Length; i++)
            {
                CopyUnit(child, plan, included[i], InRun(units![i]));
                plan.ReleasePages(included[i]);
            }
            return;
        }

        long offset = 0;
        foreach (var t in included)
        {
            var n = child[t].numel();
            child[t].copy_(plan.Target[t]);
            // The run [start, start + length) may wrap past the end: intersect both pieces with this tensor.
            foreach (var (runStart, runEnd) in new[] { (start, start + length), (start - unitCount, start + length - unitCount) })
            {
                var from = Math.Max(runStart, offset);
                var to = Math.Min(runEnd, offset + n);
                if (from < to)
                {
                    plan.WriteMutant(child[t].view(-1).narrow(0, from - offset, to - from), t, from - offset, to - from);
                }
            }
            offset += n;
            plan.ReleasePages(t);
        }
    }

    private static void CopyUnit(WeightSet child, MutantPlan plan, int t, bool takeMutant)
    {
        if (takeMutant)
        {
            plan.WriteMutant(child[t].view(-1), t, 0, child[t].numel());
        }
        else
        {
            child[t].copy_(plan.Target[t]);
        }
    }

    private static (int Tensor, long Offset) Locate(WeightSet child, int[] included, long flatIndex)
    {
        foreach (var t in included)
        {
            var n = child[t].numel();
            if (flatIndex < n)
            {
                return (t, flatIndex);
            }
            flatIndex -= n;
        }
        throw new InvalidOperationException("flat index past the end of the included tensors");
    }
}
