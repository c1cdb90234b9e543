using System.Runtime.CompilerServices;

namespace EvolverActors.Tensors.Operators;

/// <summary>
/// Counter-based random numbers: a value is a pure function of (key, index), so any thread can make any
/// element's number and the result never depends on how work is split. Keys come from the offspring's seed
/// through SplitMix64; elements use Wellons' "lowbias32" integer hash (https://nullprogram.com/blog/2018/07/31/)
/// of the scrambled index, whose top 24 bits give a uniform number in [0, 1).
/// </summary>
public static class CounterRng
{
    public const uint IndexScramble = 0x9E3779B1u;
    public const uint Mix1 = 0x7FEB352Du;
    public const uint Mix2 = 0x846CA68Bu;

    /// <summary>SplitMix64 finaliser (Steele, Lea, Flood 2014): a good 64-bit mixer for deriving keys.</summary>
    public static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>A 32-bit key for one stream (e.g. one tensor) of one offspring.</summary>
    public static uint StreamKey(ulong seed, ulong stream) => (uint)SplitMix64(SplitMix64(seed) ^ SplitMix64(stream + 0x5851F42D4C957F2DUL));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(uint key, uint index)
    {
        var x = (index * IndexScramble) ^ key;
        x ^= x >> 16;
        x *= Mix1;
        x ^= x >> 15;
        x *= Mix2;
        x ^= x >> 16;
        return x;
    }

    /// <summary>Uniform in [0, 1) with 24-bit resolution.</summary>
    public static double Uniform(uint key, uint index) => (Hash(key, index) >> 8) * (1.0 / (1 << 24));

    /// <summary>The 24-bit threshold for "take with probability p": u24 &lt; threshold. p = 1 always takes.</summary>
    public static int Threshold(double p) => (int)Math.Round(Math.Clamp(p, 0, 1) * (1 << 24));

    /// <summary>A uniform integer in [0, n) for a 64-bit n (rejection-free, negligible bias for n ≪ 2^64).</summary>
    public static long Below(ulong seed, ulong stream, long n) =>
        n <= 0 ? 0 : (long)Math.BigMul(SplitMix64(seed ^ SplitMix64(stream)), (ulong)n, out _);
}
