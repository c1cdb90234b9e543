using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// <c>destination = Σ_k c_k·source_k</c> in one pass over memory on all cores, for contiguous float32 CPU tensors.
/// Torch would make one pass per source (each add_ re-reads and re-writes the destination); this reads every
/// source once and writes the destination once. The destination may also be a source (in-place updates).
/// </summary>
public static unsafe class LinearCombinationKernel
{
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
        // A destination that is not a source is streamed past the cache (non-temporal stores); one that is a
        // source was just read, so its lines are already cached and ordinary stores are cheaper.
        var streaming = Array.IndexOf(pointers, dst) < 0;
        var coefs = coefficients.ToArray();
        var chunks = (int)((n + ChunkElements - 1) / ChunkElements);
        Parallel.For(0, chunks, c =>
        {
            var start = (long)c * ChunkElements;
            Run((float*)dst, pointers, coefs, start, Math.Min(n, start + ChunkElements), streaming);
        });
        return true;
    }

    private static bool Eligible(Tensor t) =>
        t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(float* dst, nint[] sourceArray, float[] coefs, long start, long end, bool streaming)
    {
        var k = sourceArray.Length;
        var sources = stackalloc float*[k];
        var scales = stackalloc Vector256<float>[k];
        for (var i = 0; i < k; i++)
        {
            sources[i] = (float*)sourceArray[i];
            scales[i] = Vector256.Create(coefs[i]);
        }
        var j = start;
        // Scalar head up to a 32-byte aligned destination, so the vector loop may use aligned streaming stores.
        for (; j < end && ((nint)(dst + j) & 31) != 0; j++)
        {
            dst[j] = ScalarAt(sources, coefs, k, j);
        }
        for (; j + 8 <= end; j += 8)
        {
            // Every source is read before the destination is written, so the destination may alias a source.
            var acc = Vector256.Load(sources[0] + j) * scales[0];
            for (var i = 1; i < k; i++)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(sources[i] + j), scales[i], acc);
            }
            if (streaming)
            {
                Vector256.StoreAlignedNonTemporal(acc, dst + j);
            }
            else
            {
                Vector256.StoreAligned(acc, dst + j);
            }
        }
        for (; j < end; j++)
        {
            dst[j] = ScalarAt(sources, coefs, k, j);
        }
    }

    private static float ScalarAt(float** sources, float[] coefs, int k, long j)
    {
        var acc = sources[0][j] * coefs[0];
        for (var i = 1; i < k; i++)
        {
            acc = MathF.FusedMultiplyAdd(sources[i][j], coefs[i], acc);
        }
        return acc;
    }
}
