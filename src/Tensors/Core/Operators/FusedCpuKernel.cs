using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EvolverActors.Tensors.Operators;

/// <summary>
/// Mutation and binomial crossover in one pass over memory, on both cores, with SIMD:
/// <c>child[j] = u(key, j) &lt; CR ? Σ_k c_k·src_k[j] : target[j]</c>.
/// Torch would need a random tensor, a mask and several passes; here each element's
/// random number is hashed from its index (<see cref="CounterRng"/>), so the result is bit-identical for a seed
/// whatever the thread count, and the only memory traffic is reading the sources and writing the child.
/// </summary>
internal static unsafe class FusedCpuKernel
{
    /// <summary>Elements per parallel chunk: large enough to amortise scheduling, small enough to balance two cores.</summary>
    private const int ChunkElements = 1 << 18;

    /// <summary>Runs the kernel over <paramref name="length"/> elements. Sources may alias the target or each other.</summary>
    public static void Binomial(float* child, float* target, ReadOnlySpan<nint> sources, ReadOnlySpan<float> coefficients,
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
        var args = new KernelArgs((nint)child, (nint)target, sources.ToArray(), coefficients.ToArray(), key, threshold);
        var chunks = (int)((length + ChunkElements - 1) / ChunkElements);
        if (chunks <= 1)
        {
            Run(args, 0, length);
            return;
        }
        Parallel.For(0, chunks, c =>
        {
            var start = (long)c * ChunkElements;
            Run(args, start, Math.Min(length, start + ChunkElements));
        });
    }

    private sealed record KernelArgs(nint Child, nint Target, nint[] Sources, float[] Coefficients, uint Key, int Threshold);

    private static void Run(KernelArgs a, long start, long end)
    {
        var child = (float*)a.Child;
        var target = (float*)a.Target;
        var s = a.Sources;
        var c = a.Coefficients;
        switch (s.Length)
        {
            case 1:
                Loop(child, target, (float*)s[0], (float*)s[0], (float*)s[0], (float*)s[0], c[0], 0, 0, 0, 1, a.Key, a.Threshold, start, end);
                break;
            case 2:
                Loop(child, target, (float*)s[0], (float*)s[1], (float*)s[1], (float*)s[1], c[0], c[1], 0, 0, 2, a.Key, a.Threshold, start, end);
                break;
            case 3:
                Loop(child, target, (float*)s[0], (float*)s[1], (float*)s[2], (float*)s[2], c[0], c[1], c[2], 0, 3, a.Key, a.Threshold, start, end);
                break;
            default:
                Loop(child, target, (float*)s[0], (float*)s[1], (float*)s[2], (float*)s[3], c[0], c[1], c[2], c[3], 4, a.Key, a.Threshold, start, end);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop(float* child, float* target, float* s0, float* s1, float* s2, float* s3,
        float c0, float c1, float c2, float c3, int terms, uint key, int threshold, long start, long end)
    {
        var j = start;
        // Peel to a 32-byte aligned child address so the vector loop can use non-temporal stores: the child is
        // written once and not read back soon, so streaming it past the cache saves the read-for-ownership traffic.
        while (j < end && ((nint)(child + j) & 31) != 0)
        {
            child[j] = Scalar(child, target, s0, s1, s2, s3, c0, c1, c2, c3, terms, key, threshold, j);
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
            var index = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7) + Vector256.Create((uint)start);
            var step = Vector256.Create(8u);
            for (; j + 8 <= end; j += 8)
            {
                var x = (index * scrambleV) ^ keyV;
                x ^= Vector256.ShiftRightLogical(x, 16);
                x *= mix1V;
                x ^= Vector256.ShiftRightLogical(x, 15);
                x *= mix2V;
                x ^= Vector256.ShiftRightLogical(x, 16);
                var take = Vector256.LessThan(Vector256.ShiftRightLogical(x, 8).AsInt32(), thresholdV).AsSingle();
                index += step;

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
                Vector256.StoreAlignedNonTemporal(Vector256.ConditionalSelect(take, mutant, Vector256.Load(target + j)), child + j);
            }
        }
        for (; j < end; j++)
        {
            child[j] = Scalar(child, target, s0, s1, s2, s3, c0, c1, c2, c3, terms, key, threshold, j);
        }
    }

    private static float Scalar(float* child, float* target, float* s0, float* s1, float* s2, float* s3,
        float c0, float c1, float c2, float c3, int terms, uint key, int threshold, long j)
    {
        var take = (int)(CounterRng.Hash(key, (uint)j) >> 8) < threshold;
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
