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
        long length, uint key, int threshold) =>
        Binomial([new Job(dtype, (nint)child, (nint)target, sources.ToArray(), coefficients.ToArray(), length, key, threshold)]);

    /// <summary>One tensor's work for <see cref="Binomial(IReadOnlyList{Job})"/>: the arguments of the single-tensor call.</summary>
    internal sealed record Job(ScalarType DType, nint Child, nint Target, nint[] Sources, float[] Coefficients, long Length, uint Key, int Threshold);

    /// <summary>
    /// Runs several tensors' kernels as one parallel loop over all their chunks, so that the cores share the whole set
    /// (one join instead of one per tensor, and a core held up by another process does not stall the rest) rather
    /// than each small tensor. Each element is computed exactly as by the single-tensor call.
    /// </summary>
    internal static void Binomial(IReadOnlyList<Job> jobs)
    {
        var args = new KernelArgs[jobs.Count];
        var firstChunk = new long[jobs.Count + 1];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (job.Sources.Length is < 1 or > 4 || job.Sources.Length != job.Coefficients.Length)
            {
                throw new ArgumentException("the fused kernel takes 1 to 4 weighted sources");
            }
            if (job.Length > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(jobs), "a tensor of more than 2^32 elements must be split by the caller");
            }
            if (!Supports(job.DType))
            {
                throw new ArgumentException($"the fused kernel takes float32, float16 or bfloat16, not {job.DType}", nameof(jobs));
            }
            args[i] = new KernelArgs(job.DType, job.Child, job.Target, job.Sources, job.Coefficients, job.Key,
                job.Target == 0 ? AlwaysMutant : job.Threshold);
            firstChunk[i + 1] = firstChunk[i] + ((job.Length + ChunkElements - 1) / ChunkElements);
        }
        var chunks = firstChunk[^1];
        if (chunks <= 1)
        {
            for (var i = 0; i < jobs.Count; i++)
            {
                RunChunk(args[i], 0, jobs[i].Length);
            }
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism }, c =>
        {
            var i = Array.BinarySearch(firstChunk, c);
            i = i >= 0 ? i : ~i - 1;
            while (firstChunk[i + 1] <= c)
            {
                i++; // skip empty tensors, whose first chunk is the next one's
            }
            var start = (c - firstChunk[i]) * ChunkElements;
            RunChunk(args[i], start, Math.Min(jobs[i].Length, start + ChunkElements));
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
        // Peel to a vector-aligned child address so the vector loops can use non-temporal stores: the child is
        // written once and not read back soon, so streaming it past the cache saves the read-for-ownership traffic.
        var alignment = Vector512.IsHardwareAccelerated ? 63 : 31;
        while (j < count && ((nint)(child + j) & alignment) != 0)
        {
            child[j] = Scalar(target, s0, s1, s2, s3, c0, c1, c2, c3, terms, key, threshold, first, j);
            j++;
        }
        if (Vector512.IsHardwareAccelerated)
        {
            // The same per-element operations as the 256-bit loop, 16 lanes at a time (half the instructions per byte).
            var keyW = Vector512.Create(key);
            var scrambleW = Vector512.Create(CounterRng.IndexScramble);
            var mix1W = Vector512.Create(CounterRng.Mix1);
            var mix2W = Vector512.Create(CounterRng.Mix2);
            var thresholdW = Vector512.Create(threshold);
            var c0W = Vector512.Create(c0);
            var c1W = Vector512.Create(c1);
            var c2W = Vector512.Create(c2);
            var c3W = Vector512.Create(c3);
            var indexW = Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create((uint)(first + j));
            var stepW = Vector512.Create(16u);
            for (; j + 16 <= count; j += 16)
            {
                var mutant = Vector512.Load(s0 + j) * c0W;
                mutant = Vector512.FusedMultiplyAdd(Vector512.Load(s1 + j), c1W, mutant);
                if (terms > 2)
                {
                    mutant = Vector512.FusedMultiplyAdd(Vector512.Load(s2 + j), c2W, mutant);
                    if (terms > 3)
                    {
                        mutant = Vector512.FusedMultiplyAdd(Vector512.Load(s3 + j), c3W, mutant);
                    }
                }
                if (target is not null)
                {
                    var x = (indexW * scrambleW) ^ keyW;
                    x ^= Vector512.ShiftRightLogical(x, 16);
                    x *= mix1W;
                    x ^= Vector512.ShiftRightLogical(x, 15);
                    x *= mix2W;
                    x ^= Vector512.ShiftRightLogical(x, 16);
                    var take = Vector512.LessThan(Vector512.ShiftRightLogical(x, 8).AsInt32(), thresholdW).AsSingle();
                    mutant = Vector512.ConditionalSelect(take, mutant, Vector512.Load(target + j));
                }
                indexW += stepW;
                if (streaming)
                {
                    Vector512.StoreAlignedNonTemporal(mutant, child + j);
                }
                else
                {
                    Vector512.StoreAligned(mutant, child + j);
                }
            }
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
