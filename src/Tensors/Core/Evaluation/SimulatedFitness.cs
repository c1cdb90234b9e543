using System.Diagnostics;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>How a simulated evaluator scores: never better (pure overhead), always better (every offspring accepted), or at random.</summary>
public enum SimulatedScoring
{
    Never,
    Always,
    Random,
}

/// <summary>Settings of the simulated evaluator used by the scheduling, overhead and resume benchmarks.</summary>
public sealed record SimulationOptions(double MedianMs = 50, double Sigma = 0.5, SimulatedScoring Scoring = SimulatedScoring.Random, int Seed = 1);

/// <summary>Busy time and evaluation window shared by all simulated evaluators of a process (thread-safe).</summary>
public sealed class SimulationStats
{
    private long _busyTicks;
    private long _evaluations;
    private long _firstStart = long.MaxValue;
    private long _lastEnd;

    public static SimulationStats Shared { get; } = new();

    public long Evaluations => Interlocked.Read(ref _evaluations);
    public TimeSpan Busy => TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

    /// <summary>From the first evaluation's start to the last one's end.</summary>
    public TimeSpan Window => Evaluations == 0
        ? TimeSpan.Zero
        : TimeSpan.FromTicks((Interlocked.Read(ref _lastEnd) - Interlocked.Read(ref _firstStart)) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

    public void Reset()
    {
        Interlocked.Exchange(ref _busyTicks, 0);
        Interlocked.Exchange(ref _evaluations, 0);
        Interlocked.Exchange(ref _firstStart, long.MaxValue);
        Interlocked.Exchange(ref _lastEnd, 0);
    }

    internal void Record(long start, long end)
    {
        Interlocked.Add(ref _busyTicks, end - start);
        Interlocked.Increment(ref _evaluations);
        long seen;
        while (start < (seen = Interlocked.Read(ref _firstStart)) && Interlocked.CompareExchange(ref _firstStart, start, seen) != seen)
        {
        }
        while (end > (seen = Interlocked.Read(ref _lastEnd)) && Interlocked.CompareExchange(ref _lastEnd, end, seen) != seen)
        {
        }
    }
}

/// <summary>
/// An evaluator that takes a log-normal time (median, σ) and returns a synthetic score, for benchmarks of the
/// service itself. Waiting is a sleep, so many simulated evaluators fit on two cores.
/// </summary>
public sealed class SimulatedFitness(SimulationOptions options, SimulationStats stats, int evaluatorIndex) : IPopulationFitness
{
    private static long _improving;
    private readonly Random _rng = new(options.Seed * 7919 + evaluatorIndex);
    private IReadOnlyList<(string Id, WeightSet Weights)> _slots = [];

    public string Mode => PopulationFitness.Individual;
    public long Version { get; private set; } = -1;

    public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots) => (Version, _slots) = (version, [.. slots]);

    public double ScoreCandidate(int slot, WeightSet child)
    {
        var start = Stopwatch.GetTimestamp();
        if (options.MedianMs > 0)
        {
            // Box–Muller normal → log-normal duration with the given median and σ.
            var normal = Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());
            Thread.Sleep(TimeSpan.FromMilliseconds(options.MedianMs * Math.Exp(options.Sigma * normal)));
        }
        stats.Record(start, Stopwatch.GetTimestamp());
        return options.Scoring switch
        {
            SimulatedScoring.Never => -1,
            SimulatedScoring.Always => Interlocked.Increment(ref _improving), // increasing process-wide: beats every earlier score
            _ => _rng.NextDouble(),
        };
    }

    public double ScorePopulation() => 0;

    public IReadOnlyList<double> ScoreMembers() => [.. _slots.Select(_ => 0.0)];

    public IReadOnlyCollection<string> Splits { get; } = [PopulationFitness.DevSplit];

    public double Report(WeightSet weights, string split) => double.NaN;

    public WeightSet Fused() => _slots.Count > 0 ? _slots[0].Weights.Clone() : throw new InvalidOperationException("not synced");

    public void Dispose()
    {
    }
}
