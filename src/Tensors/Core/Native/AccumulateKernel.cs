using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// <c>accumulator += c·source</c> for a contiguous float32 CPU accumulator and a contiguous CPU source in float32, bfloat16
/// or float16, widened on the fly, on all cores, each element one fused multiply-add. Torch's <c>add_(source, alpha)</c>
/// with a bfloat16 source into a float32 tensor takes a scalar, dynamically cast loop and allocates, which made a merge of
/// eight 1.5 GB bfloat16 models take minutes here (docs/architecture.md §3, members of any size).
/// </summary>
public static unsafe class AccumulateKernel
{
    private const int ChunkElements = 1 << 18;

    /// <summary>Runs the kernel and returns true, or returns false (touching nothing) when a tensor is not eligible.</summary>
    public static bool TryRun(Tensor accumulator, Tensor source, float coefficient)
    {
        if (accumulator.device_type != DeviceType.CPU || accumulator.dtype != ScalarType.Float32 || !accumulator.is_contiguous()
            || source.device_type != DeviceType.CPU || !source.is_contiguous() || source.numel() != accumulator.numel()
            || source.dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
        {
            return false;
        }
        var n = accumulator.numel();
        var dst = (nint)TensorMemory.FloatPointer(accumulator);
        var src = (nint)TensorMemory.BytePointer(source);
        var dtype = source.dtype;
        var chunks = (int)((n + ChunkElements - 1) / ChunkElements);
        Parallel.For(0, chunks, c =>
        {
            var start = (long)c * ChunkElements;
            var end = Math.Min(n, start + ChunkElements);
            switch (dtype)
            {
                case ScalarType.Float32:
                    Float32((float*)dst, (float*)src, coefficient, start, end);
                    break;
                case ScalarType.BFloat16:
                    BFloat16((float*)dst, (ushort*)src, coefficient, start, end);
                    break;
                default:
                    Float16((float*)dst, (Half*)src, coefficient, start, end);
                    break;
            }
        });
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float32(float* dst, float* src, float c, long start, long end)
    {
        var scale = Vector256.Create(c);
        var j = start;
        for (; j + 8 <= end; j += 8)
        {
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(src + j), scale, Vector256.Load(dst + j)), dst + j);
        }
        for (; j < end; j++)
        {
            dst[j] = MathF.FusedMultiplyAdd(src[j], c, dst[j]);
        }
    }

    /// <summary>A bfloat16 is the upper half of a float32: widening is a 16-bit shift, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BFloat16(float* dst, ushort* src, float c, long start, long end)
    {
        var scale = Vector256.Create(c);
        var j = start;
        for (; j + 16 <= end; j += 16)
        {
            var (low, high) = Vector256.Widen(Vector256.Load(src + j));
            var a = Vector256.ShiftLeft(low, 16).AsSingle();
            var b = Vector256.ShiftLeft(high, 16).AsSingle();
            Vector256.Store(Vector256.FusedMultiplyAdd(a, scale, Vector256.Load(dst + j)), dst + j);
            Vector256.Store(Vector256.FusedMultiplyAdd(b, scale, Vector256.Load(dst + j + 8)), dst + j + 8);
        }
        for (; j < end; j++)
        {
            dst[j] = MathF.FusedMultiplyAdd(BitConverter.Int32BitsToSingle(src[j] << 16), c, dst[j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float16(float* dst, Half* src, float c, long start, long end)
    {
        for (var j = start; j < end; j++)
        {
            dst[j] = MathF.FusedMultiplyAdd((float)src[j], c, dst[j]);
        }
    }
}
