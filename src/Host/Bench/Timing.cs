using System.Diagnostics;

namespace EvolverActors.Host.Bench;

/// <summary>Median wall times of actions measured interleaved, so that machine noise hits all of them alike.</summary>
internal static class Timing
{
    /// <summary>Runs every action once per round (after warm-up rounds that fault pages in); returns each one's median ms.</summary>
    public static double[] InterleavedMedianMs(int repetitions, params Action[] actions)
    {
        var samples = new double[actions.Length][];
        for (var a = 0; a < actions.Length; a++)
        {
            samples[a] = new double[repetitions];
        }
        for (var round = -2; round < repetitions; round++)
        {
            for (var a = 0; a < actions.Length; a++)
            {
                var watch = Stopwatch.StartNew();
                actions[a]();
                if (round >= 0)
                {
                    samples[a][round] = watch.Elapsed.TotalMilliseconds;
                }
            }
        }
        return [.. samples.Select(Median)];
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }
}
