using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// Whether two contiguous CPU float32 tensors agree within |a − b| ≤ atol + rtol·|b| everywhere, in one read of each
/// on all cores, stopping at the first element that does not. Torch's <c>allclose</c> builds several full-size
/// temporaries per call; comparing a BERT's embeddings (12 M floats) that way took a few hundred milliseconds per
/// candidate here, most of it in page faults.
/// </summary>
public static unsafe class CloseKernel
{
    private const long ChunkFloats = 1 << 18;

    /// <summary>True or false for two eligible tensors (float32, CPU, contiguous, same shape); null otherwise.</summary>
    public static bool? AllClose(Tensor a, Tensor b, float rtol, float atol)
    {
        if (a.dtype != ScalarType.Float32 || b.dtype != ScalarType.Float32 || a.device_type != DeviceType.CPU || b.device_type != DeviceType.CPU
            || !a.is_contiguous() || !b.is_contiguous() || !a.shape.SequenceEqual(b.shape))
        {
            return null;
        }
        var count = a.numel();
        if (count == 0)
        {
            return true;
        }
        var (pa, pb) = ((nint)TensorMemory.FloatPointer(a), (nint)TensorMemory.FloatPointer(b));
        var chunks = (int)((count + ChunkFloats - 1) / ChunkFloats);
        var close = true;
        Parallel.For(0, chunks, (c, state) =>
        {
            var start = c * ChunkFloats;
            var length = Math.Min(count, start + ChunkFloats) - start;
            if (!Close((float*)pa + start, (float*)pb + start, length, rtol, atol))
            {
                close = false;
                state.Stop();
            }
        });
        return close;
    }

    private static bool Close(float* a, float* b, long count, float rtol, float atol)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (vr, va) = (Vector256.Create(rtol), Vector256.Create(atol));
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
            {
                var x = Vector256.Load(a + i);
                var y = Vector256.Load(b + i);
                // NaN compares false, so a NaN on either side is "not close", as allclose without equal_nan.
                if (!Vector256.LessThanOrEqualAll(Vector256.Abs(x - y), va + (vr * Vector256.Abs(y))))
                {
                    return false;
                }
            }
        }
        for (; i < count; i++)
        {
            if (!(MathF.Abs(a[i] - b[i]) <= atol + (rtol * MathF.Abs(b[i]))))
            {
                return false;
            }
        }
        return true;
    }
}
