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

    /// <summary>
    /// The seed of the <paramref name="sequence"/>-th offspring (or generation) of a run: both inputs go through
    /// SplitMix64 separately, with distinct offsets, before they are combined and mixed again, so nearby run seeds
    /// give unrelated streams. (Seeding with <c>SplitMix64(runSeed + sequence)</c> would make runs s and s + 1 replay
    /// the same seeds one step apart.)
    /// </summary>
    public static ulong OffspringSeed(ulong runSeed, long sequence) =>
        SplitMix64(SplitMix64(runSeed ^ OffspringRunDomain) ^ SplitMix64((ulong)sequence + OffspringSequenceDomain));

    /// <summary>A generator for the <paramref name="sequence"/>-th offspring's draws (parents, its own seed), seeded
    /// with all 64 bits of <see cref="OffspringSeed"/>.</summary>
    public static Random OffspringRandom(ulong runSeed, long sequence) => new SplitMixRandom(OffspringSeed(runSeed, sequence));

    private const ulong OffspringRunDomain = 0x6A09E667F3BCC909UL;
    private const ulong OffspringSequenceDomain = 0xBB67AE8584CAA73BUL;

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

/// <summary>
/// A <see cref="Random"/> over the SplitMix64 sequence of a 64-bit seed (value k = SplitMix64(seed + k·γ), γ the
/// golden-ratio increment): unlike <c>new Random(int)</c> it keeps every bit of the seed, and its stream is defined
/// here, not by the runtime's version.
/// </summary>
public sealed class SplitMixRandom(ulong seed) : Random
{
    private ulong _state = seed;

    private ulong NextUInt64()
    {
        var value = CounterRng.SplitMix64(_state);
        _state += 0x9E3779B97F4A7C15UL;
        return value;
    }

    protected override double Sample() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public override double NextDouble() => Sample();

    public override float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    public override int Next() => (int)(NextUInt64() >> 33);

    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (int)Below((ulong)maxValue);
    }

    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return (int)(minValue + (long)Below((ulong)((long)maxValue - minValue)));
    }

    public override long NextInt64() => (long)(NextUInt64() >> 1);

    public override long NextInt64(long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return (long)Below((ulong)maxValue);
    }

    public override long NextInt64(long minValue, long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue + (long)Below((ulong)(maxValue - minValue));
    }

    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

    public override void NextBytes(Span<byte> buffer)
    {
        for (var i = 0; i < buffer.Length; i += 8)
        {
            var value = NextUInt64();
            for (var b = 0; b < 8 && i + b < buffer.Length; b++)
            {
                buffer[i + b] = (byte)(value >> (8 * b));
            }
        }
    }

    // Lemire's multiply-shift: uniform in [0, n) up to a bias below n / 2^64.
    private ulong Below(ulong n) => n == 0 ? 0 : Math.BigMul(NextUInt64(), n, out _);
}
