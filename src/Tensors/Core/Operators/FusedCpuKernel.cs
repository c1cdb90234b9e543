using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Operators;

/// <summary>
/// Mutation and binomial crossover in one pass over memory, on both cores, with SIMD:
/// <c>child[j] = u(key, j) &lt; CR ? Σ_k c_k·src_k[j] : target[j]</c>.
/// Torch would need a random tensor, a mask and several passes; here each element's
/// random number is hashed from its index (<see cref="CounterRng"/>), so the result is bit-identical for a seed
/// whatever the thread count, and the only memory traffic is reading the sources and writing the child.
/// Work is split into fixed chunks of <see cref="ChunkElements"/>, and every element is computed by the same
/// arithmetic (float32 fused multiply-adds in a fixed order) in the vector and the scalar loop, so neither the
/// number of threads nor the chunk an element falls in changes a bit.
/// Float16 and bfloat16 tensors go through the same float32 arithmetic: each chunk of every source is widened to
/// float32 (exact), the mask and the mutant are computed as for float32, and the result is rounded to the half type
/// with round-to-nearest-even (as torch's conversion). A half child is therefore bit for bit the float32 child of the
/// widened sources, converted; torch's half kernels make no such promise across thread counts.
/// </summary>
internal static unsafe class FusedCpuKernel
{
    /// <summary>Elements per parallel chunk: large enough to amortise scheduling, small enough to balance two cores.</summary>
    private const int ChunkElements = 1 << 18;

    /// <summary>The mask value that always takes the mutant (u24 &lt; 2^24 for every element).</summary>
    public const int AlwaysMutant = 1 << 24;

    /// <summary>The dtypes the kernel reads and writes.</summary>
    public static bool Supports(ScalarType dtype) => dtype is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16;

    /// <summary>Runs the float32 kernel over <paramref name="length"/> elements. Sources may alias the target or each other.</summary>
    public static void Binomial(float* child, float* target, ReadOnlySpan<nint> sources, ReadOnlySpan<float> coefficients,
        long length, uint key, int threshold) =>
        Binomial(ScalarType.Float32, child, target, sources, coefficients, length, key, threshold);

    /// <summary>
    /// Runs the kernel over <paramref name="length"/> elements of <paramref name="dtype"/> (float32, float16 or
    /// bfloat16; all pointers of that type). Element j takes the mutant iff <c>Hash(key, j) &gt;&gt; 8 &lt; threshold</c>;
    /// with <paramref name="target"/> null every element is the mutant (<paramref name="threshold"/> is then ignored).
    /// Sources may alias the target or each other, not the child unless every element takes the same path.
    /// </summary>
    public static void Binomial(ScalarType dtype, void* child, void* target, ReadOnlySpan<nint> sources, ReadOnlySpan<float> coefficients,
        long length, uint key, int threshold)
    {
        if (sources.Length is < 1 or > 4 || sources.Length != coefficients.Length)
        {
            throw new ArgumentException("the fused kernel takes 1 to 4 weighted sources");
        }
        if (length > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "a tensor of more than 2^32 elements must be split by the caller");
        }
        if (!Supports(dtype))
        {
            throw new ArgumentException($"the fused kernel takes float32, float16 or bfloat16, not {dtype}", nameof(dtype));
        }
        var args = new KernelArgs(dtype, (nint)child, (nint)target, sources.ToArray(), coefficients.ToArray(), key,
            target is null ? AlwaysMutant : threshold);
        var chunks = (int)((length + ChunkElements - 1) / ChunkElements);
        if (chunks <= 1)
        {
            RunChunk(args, 0, length);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism }, c =>
        {
            var start = (long)c * ChunkElements;
            RunChunk(args, start, Math.Min(length, start + ChunkElements));
        });
    }

    /// <summary>Threads the kernel may use (-1: as many as the thread pool gives); results never depend on it.</summary>
    internal static int MaxDegreeOfParallelism { get; set; } = -1;

    private sealed record KernelArgs(ScalarType DType, nint Child, nint Target, nint[] Sources, float[] Coefficients, uint Key, int Threshold);

    private static void RunChunk(KernelArgs a, long start, long end)
    {
        if (a.DType == ScalarType.Float32)
        {
            var offset = start * sizeof(float);
            Run(a, a.Child + (nint)offset, a.Target == 0 ? 0 : a.Target + (nint)offset, [.. a.Sources.Select(p => p + (nint)offset)],
                start, end - start, streaming: true);
            return;
        }

        // Half types: widen this chunk of the target and of each source to float32, run the float32 loop into a
        // float32 buffer, round back. Buffers are per chunk, so chunks stay independent.
        var count = end - start;
        var halfOffset = (nint)(start * 2);
        var buffers = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float) * (2 + a.Sources.Length)), 32);
        try
        {
            var output = buffers;
            var target = a.Target == 0 ? null : buffers + count;
            if (target is not null)
            {
                Widen(a.DType, (ushort*)(a.Target + halfOffset), target, count);
            }
            var sources = new nint[a.Sources.Length];
            for (var k = 0; k < sources.Length; k++)
            {
                var widened = buffers + ((2 + k) * count);
                Widen(a.DType, (ushort*)(a.Sources[k] + halfOffset), widened, count);
                sources[k] = (nint)widened;
            }
            Run(a, (nint)output, (nint)target, sources, start, count, streaming: false);
            Narrow(a.DType, output, (ushort*)(a.Child + halfOffset), count);
        }
        finally
        {
            NativeMemory.AlignedFree(buffers);
        }
    }

    private static void Widen(ScalarType dtype, ushort* from, float* to, long count)
    {
        if (dtype == ScalarType.BFloat16)
        {
            for (long j = 0; j < count; j++)
            {
                to[j] = BitConverter.Int32BitsToSingle(from[j] << 16);
            }
            return;
        }
        var half = (Half*)from;
        for (long j = 0; j < count; j++)
        {
            to[j] = (float)half[j];
        }
    }

    private static void Narrow(ScalarType dtype, float* from, ushort* to, long count)
    {
        if (dtype == ScalarType.BFloat16)
        {
            for (long j = 0; j < count; j++)
            {
                to[j] = ToBFloat16(from[j]);
            }
            return;
        }
        var half = (Half*)to;
        for (long j = 0; j < count; j++)
        {
            half[j] = (Half)from[j]; // IEEE round-to-nearest-even, as torch's float → half
        }
    }

    /// <summary>float32 → bfloat16 with round-to-nearest-even, NaN as 0x7FC0: torch's conversion (c10/util/BFloat16.h).</summary>
    internal static ushort ToBFloat16(float value)
    {
        if (float.IsNaN(value))
        {
            return 0x7FC0;
        }
        var bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>The loop over <paramref name="count"/> elements at the given pointers, whose counter indices start at <paramref name="first"/>.</summary>
    private static void Run(KernelArgs a, nint childPointer, nint targetPointer, nint[] s, long first, long count, bool streaming)
    {
        var child = (float*)childPointer;
        var target = (float*)targetPointer;
        var c = a.Coefficients;
        switch (s.Length)
        {
            case 1:
                Loop(child, target, (float*)s[0], (float*)s[0], (float*)s[0], (float*)s[0], c[0], 0, 0, 0, 1, a.Key, a.Threshold, first, count, streaming);
                break;
            case 2:
                Loop(child, target, (float*)s[0], (float*)s[1], (float*)s[1], (float*)s[1], c[0], c[1], 0, 0, 2, a.Key, a.Threshold, first, count, streaming);
                break;
            case 3:
                Loop(child, target, (float*)s[0], (float*)s[1], (float*)s[2], (float*)s[2], c[0], c[1], c[2], 0, 3, a.Key, a.Threshold, first, count, streaming);
                break;
            default:
                Loop(child, target, (float*)s[0], (float*)s[1], (float*)s[2], (float*)s[3], c[0], c[1], c[2], c[3], 4, a.Key, a.Threshold, first, count, streaming);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop(float* child, float* target, float* s0, float* s1, float* s2, float* s3,
        float c0, float c1, float c2, float c3, int terms, uint key, int threshold, long first, long count, bool streaming)
    {
        long j = 0;
        // Peel to a 32-byte aligned child address so the vector loop can use non-temporal stores: the child is
        // written once and not read back soon, so streaming it past the cache saves the read-for-ownership traffic.
        while (j < count && ((nint)(child + j) & 31) != 0)
        {
            child[j] = Scalar(target, s0, s1, s2, s3, c0, c1, c2, c3, terms, key, threshold, first, j);
            j++;
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var keyV = Vector256.Create(key);
            var scrambleV = Vector256.Create(CounterRng.IndexScramble);
            var mix1V = Vector256.Create(CounterRng.Mix1);
            var mix2V = Vector256.Create(CounterRng.Mix2);
            var thresholdV = Vector256.Create(threshold);
            var c0V = Vector256.Create(c0);
            var c1V = Vector256.Create(c1);
            var c2V = Vector256.Create(c2);
            var c3V = Vector256.Create(c3);
            var index = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7) + Vector256.Create((uint)(first + j));
            var step = Vector256.Create(8u);
            for (; j + 8 <= count; j += 8)
            {
                var mutant = Vector256.Load(s0 + j) * c0V;
                mutant = Vector256.FusedMultiplyAdd(Vector256.Load(s1 + j), c1V, mutant);
                if (terms > 2)
                {
                    mutant = Vector256.FusedMultiplyAdd(Vector256.Load(s2 + j), c2V, mutant);
                    if (terms > 3)
                    {
                        mutant = Vector256.FusedMultiplyAdd(Vector256.Load(s3 + j), c3V, mutant);
                    }
                }
                if (target is not null)
                {
                    var x = (index * scrambleV) ^ keyV;
                    x ^= Vector256.ShiftRightLogical(x, 16);
                    x *= mix1V;
                    x ^= Vector256.ShiftRightLogical(x, 15);
                    x *= mix2V;
                    x ^= Vector256.ShiftRightLogical(x, 16);
                    var take = Vector256.LessThan(Vector256.ShiftRightLogical(x, 8).AsInt32(), thresholdV).AsSingle();
                    mutant = Vector256.ConditionalSelect(take, mutant, Vector256.Load(target + j));
                }
                index += step;
                if (streaming)
                {
                    Vector256.StoreAlignedNonTemporal(mutant, child + j);
                }
                else
                {
                    Vector256.StoreAligned(mutant, child + j);
                }
            }
        }
        for (; j < count; j++)
        {
            child[j] = Scalar(target, s0, s1, s2, s3, c0, c1, c2, c3, terms, key, threshold, first, j);
        }
    }

    private static float Scalar(float* target, float* s0, float* s1, float* s2, float* s3,
        float c0, float c1, float c2, float c3, int terms, uint key, int threshold, long first, long j)
    {
        var take = target is null || (int)(CounterRng.Hash(key, (uint)(first + j)) >> 8) < threshold;
        return take ? Mutant(s0, s1, s2, s3, c0, c1, c2, c3, terms, j) : target[j];
    }

    /// <summary>Scalar mutant with the same fused multiply-adds as the vector path, so both give identical bits.</summary>
    internal static float Mutant(float* s0, float* s1, float* s2, float* s3, float c0, float c1, float c2, float c3, int terms, long j)
    {
        var m = s0[j] * c0;
        m = MathF.FusedMultiplyAdd(s1[j], c1, m);
        if (terms > 2)
        {
            m = MathF.FusedMultiplyAdd(s2[j], c2, m);
        }
        if (terms > 3)
        {
            m = MathF.FusedMultiplyAdd(s3[j], c3, m);
        }
        return m;
    }
}
