using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Operators;

/// <summary>
/// The mutant of one offspring as weighted sources: <c>Σ_k c_k·source_k</c>. Sources with a zero coefficient are
/// dropped. In task-vector space the base enters with coefficient 1 − Σ c_k (zero for every built-in operator,
/// which are all affine: the base cancels, so raw and task-vector space give the same child).
/// </summary>
internal sealed class MutantPlan
{
    public MutantPlan(MutationOperator op, BreedingSettings settings, WeightSet target, IReadOnlyList<WeightSet> parents, WeightSet? baseWeights)
    {
        Target = target;
        var all = op.Coefficients(settings.F);
        var sources = new List<WeightSet>();
        var coefficients = new List<float>();
        for (var k = 0; k < all.Length; k++)
        {
            if (all[k] != 0)
            {
                sources.Add(k == 0 ? target : parents[k - 1]);
                coefficients.Add((float)all[k]);
            }
        }
        if (settings.Space == WeightSpace.TaskVector)
        {
            if (baseWeights is null)
            {
                throw new EvolverException("task-vector space needs a base checkpoint (--base)");
            }
            var baseCoefficient = 1 - all.Sum();
            if (Math.Abs(baseCoefficient) > 1e-12)
            {
                sources.Add(baseWeights);
                coefficients.Add((float)baseCoefficient);
            }
        }
        if (sources.Count == 0)
        {
            // F = 0 with DE/rand/1-style coefficients cannot happen (c_r1 = 1); keep the target for safety.
            sources.Add(target);
            coefficients.Add(1);
        }
        Sources = sources;
        Coefficients = [.. coefficients];
    }

    public WeightSet Target { get; }
    public IReadOnlyList<WeightSet> Sources { get; }
    public float[] Coefficients { get; }

    /// <summary>Whether the target or a source reads a memory-mapped file in place.</summary>
    public bool IsMapped => Target.IsMapped || Sources.Any(s => s.IsMapped);

    /// <summary>Maps tensor t of the target and every source in before it is read, if they are memory-mapped.</summary>
    public void PrefetchPages(int t)
    {
        Target.PrefetchPages(t);
        foreach (var source in Sources)
        {
            source.PrefetchPages(t);
        }
    }

    /// <summary>Lets the pages of tensor t of the target and every source leave the resident set if they are memory-mapped.</summary>
    public void ReleasePages(int t)
    {
        Target.ReleasePages(t);
        foreach (var source in Sources)
        {
            source.ReleasePages(t);
        }
    }

    /// <summary>True when tensor t of the child, target and all sources can go through the fused CPU kernel:
    /// contiguous CPU tensors of one dtype among float32, float16 and bfloat16, and at most four sources.</summary>
    public bool FusedEligible(Tensor child, int t) =>
        Sources.Count <= 4 && child.numel() <= uint.MaxValue && IsFusable(child, child.dtype) && IsFusable(Target[t], child.dtype)
        && Sources.All(s => IsFusable(s[t], child.dtype));

    private static bool IsFusable(Tensor x, ScalarType dtype) =>
        x.device_type == DeviceType.CPU && x.dtype == dtype && FusedCpuKernel.Supports(dtype) && x.is_contiguous();

    /// <summary>
    /// Writes the mutant of elements [offset, offset + count) of tensor t into <paramref name="destination"/>. On the
    /// CPU (float32, float16, bfloat16, contiguous) this is the fused kernel's arithmetic, so a mutant element has the
    /// same bits whichever crossover chose it and whatever the thread count; elsewhere (CUDA, float64, or
    /// <paramref name="allowFused"/> false) torch's mul_/add_.
    /// </summary>
    public unsafe void WriteMutant(Tensor destination, int t, long offset, long count, bool allowFused = true)
    {
        if (allowFused && destination.is_contiguous() && FusedEligible(destination, t))
        {
            var size = (long)DTypes.SizeOf(destination.dtype);
            Span<nint> pointers = stackalloc nint[Sources.Count];
            for (var k = 0; k < pointers.Length; k++)
            {
                pointers[k] = (nint)(Native.TensorMemory.BytePointer(Sources[k][t]) + (offset * size));
            }
            FusedCpuKernel.Binomial(destination.dtype, Native.TensorMemory.BytePointer(destination), null, pointers, Coefficients,
                count, 0, FusedCpuKernel.AlwaysMutant);
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor Slice(WeightSet set) => set[t].reshape(-1).narrow(0, offset, count);
        destination.copy_(Slice(Sources[0])).mul_(Coefficients[0]);
        for (var k = 1; k < Sources.Count; k++)
        {
            destination.add_(Slice(Sources[k]), alpha: Coefficients[k]);
        }
    }
}
