using EvolverActors.Tensors.Native;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>
/// CPU weight sets meant to be written again and again (rebuild buffers, replayed members): each dtype's tensors are
/// contiguous views into one block whose 2 MB pages are advised as transparent huge pages before anything touches
/// them, so the first write maps the set 2 MB at a time instead of 4 kB (docs/architecture.md §3). Every tensor is an
/// ordinary contiguous CPU tensor starting on a 64-byte boundary; the block lives until the set's last tensor is
/// disposed. Contents are uninitialised, as <see cref="WeightSet.EmptyLike"/>.
/// </summary>
public static class WeightBuffers
{
    private const long TensorAlignmentBytes = 64;

    /// <summary>A new CPU weight set of <paramref name="layout"/>, huge-page backed where the system allows.</summary>
    public static WeightSet Allocate(WeightLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var tensors = new Tensor?[layout.Specs.Count];
        try
        {
            foreach (var group in layout.Specs.Select((spec, index) => (spec, index)).GroupBy(p => p.spec.DType))
            {
                AllocateGroup(group.Key, [.. group], tensors);
            }
        }
        catch
        {
            foreach (var tensor in tensors)
            {
                tensor?.Dispose();
            }
            throw;
        }
        return WeightSet.Adopt(layout.Specs.Select((spec, i) => (spec.Name, tensors[i]!)));
    }

    /// <summary>Whether <paramref name="weights"/> has exactly <paramref name="layout"/> (names, order, shapes, dtypes).</summary>
    public static bool HasLayout(WeightSet weights, WeightLayout layout)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(layout);
        return weights.Count == layout.Specs.Count && layout.Specs.Select((spec, i) => (spec, i)).All(p =>
            weights.Names[p.i] == p.spec.Name && weights[p.i].dtype == p.spec.DType && weights[p.i].shape.SequenceEqual(p.spec.Shape));
    }

    private static unsafe void AllocateGroup(ScalarType dtype, (TensorSpec Spec, int Index)[] members, Tensor?[] tensors)
    {
        long elementSize;
        using (var probe = empty(0, dtype))
        {
            elementSize = probe.element_size();
        }
        var align = Math.Max(1, TensorAlignmentBytes / elementSize);
        var offsets = new long[members.Length];
        long total = 0;
        for (var m = 0; m < members.Length; m++)
        {
            offsets[m] = total;
            total += (members[m].Spec.Elements + align - 1) / align * align;
        }
        // One extra huge page of slack, so the views can start on a 2 MB boundary whatever address malloc returns.
        var slack = PageAdvice.HugePageSize / elementSize;
        using var block = empty(total + slack, dtype, CPU);
        var address = (nint)TensorMemory.BytePointer(block);
        var aligned = (address + (nint)(PageAdvice.HugePageSize - 1)) & ~(nint)(PageAdvice.HugePageSize - 1);
        var skip = (aligned - address) / elementSize;
        PageAdvice.AdviseHugePages(aligned, total * elementSize);
        for (var m = 0; m < members.Length; m++)
        {
            var shape = members[m].Spec.Shape;
            tensors[members[m].Index] = block.as_strided(shape, ContiguousStrides(shape), skip + offsets[m]);
        }
    }

    private static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= Math.Max(1, shape[d]);
        }
        return strides;
    }
}
