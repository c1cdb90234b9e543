using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// <c>destination = Σ_k c_k·source_k</c> in one pass over memory on all cores, for contiguous float32 CPU tensors.
/// Torch would make one pass per source (each add_ re-reads and re-writes the destination); this reads every
/// source once and writes the destination once. The destination may also be a source (in-place updates).
/// Work is blocked so each block of the destination stays in L1 while the sources stream through.
/// </summary>
internal static unsafe class LinearCombinationKernel
{
    private const int BlockElements = 2048;
    private const int ChunkElements = 1 << 18;

    /// <summary>Runs the kernel and returns true, or returns false (touching nothing) when a tensor is not eligible.</summary>
    public static bool TryRun(Tensor destination, IReadOnlyList<Tensor> sources, ReadOnlySpan<float> coefficients)
    {
        if (sources.Count == 0 || sources.Count != coefficients.Length || !Eligible(destination))
        {
            return false;
        }
        var n = destination.numel();
        var pointers = new nint[sources.Count];
        for (var k = 0; k < sources.Count; k++)
        {
            if (!Eligible(sources[k]) || sources[k].numel() != n)
            {
                return false;
            }
            pointers[k] = (nint)TensorMemory.FloatPointer(sources[k]);
        }
        var dst = (nint)TensorMemory.FloatPointer(destination);
        var coefs = coefficients.ToArray();
        var chunks = (int)((n + ChunkElements - 1) / ChunkElements);
        Parallel.For(0, chunks, c =>
        {
            var start = (long)c * ChunkElements;
            var end = Math.Min(n, start + ChunkElements);
            for (var block = start; block < end; block += BlockElements)
            {
                Block((float*)dst, pointers, coefs, block, Math.Min(end, block + BlockElements));
            }
        });
        return true;
    }

    private static bool Eligible(Tensor t) =>
        t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

    private static void Block(float* dst, nint[] sources, float[] coefs, long start, long end)
    {
        // Accumulate into a stack buffer so an aliased destination is only written after every source is read.
        var count = (int)(end - start);
        var acc = stackalloc float[BlockElements];
        Scale(acc, (float*)sources[0] + start, coefs[0], count);
        for (var k = 1; k < sources.Length; k++)
        {
            AddScaled(acc, (float*)sources[k] + start, coefs[k], count);
        }
        new ReadOnlySpan<float>(acc, count).CopyTo(new Span<float>(dst + start, count));
    }

    private static void Scale(float* acc, float* source, float c, int count)
    {
        var j = 0;
        var cV = Vector256.Create(c);
        for (; j + 8 <= count; j += 8)
        {
            Vector256.Store(Vector256.Load(source + j) * cV, acc + j);
        }
        for (; j < count; j++)
        {
            acc[j] = source[j] * c;
        }
    }

    private static void AddScaled(float* acc, float* source, float c, int count)
    {
        var j = 0;
        var cV = Vector256.Create(c);
        for (; j + 8 <= count; j += 8)
        {
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(source + j), cV, Vector256.Load(acc + j)), acc + j);
        }
        for (; j < count; j++)
        {
            acc[j] = MathF.FusedMultiplyAdd(source[j], c, acc[j]);
        }
    }
}
