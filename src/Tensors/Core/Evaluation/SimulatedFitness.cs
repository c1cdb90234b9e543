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

/// <summary>
/// Settings of the simulated evaluator used by the service benchmarks. <paramref name="ReadsWeights"/>: the run's real
/// fitness mode scores through a <see cref="SimulatedScorer"/>, which reads every candidate it is given (merged mode then
/// builds real merged candidates); otherwise a <see cref="SimulatedFitness"/> scores without looking at weights.
/// </summary>
public sealed record SimulationOptions(double MedianMs = 50, double Sigma = 0.5, SimulatedScoring Scoring = SimulatedScoring.Random, int Seed = 1,
    bool ReadsWeights = false);

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
    private readonly SimulatedOutcome _outcome = new(options, stats, evaluatorIndex);
    private IReadOnlyList<(string Id, WeightSet Weights)> _slots = [];

    public string Mode => PopulationFitness.Individual;
    public long Version { get; private set; } = -1;

    public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey>? members = null) => (Version, _slots) = (version, [.. slots]);

    public double ScoreCandidate(int slot, WeightSet child) => _outcome.Next();

    public double ScorePopulation() => 0;

    public IReadOnlyList<double> ScoreMembers() => [.. _slots.Select(_ => 0.0)];

    /// <summary>The simulation has dev only (a run with a guard is refused at its configuration); one evaluation, its score on each split.</summary>
    public IReadOnlyList<double> ScoreCandidate(int slot, WeightSet child, IReadOnlyList<string> splits)
    {
        var score = _outcome.Next();
        return [.. splits.Select(_ => score)];
    }

    public IReadOnlyList<double> ScorePopulation(IReadOnlyList<string> splits) => [.. splits.Select(_ => 0.0)];

    public IReadOnlyList<double> ScoreMembers(string split) => ScoreMembers();

    public IReadOnlyCollection<string> Splits { get; } = [PopulationFitness.DevSplit];

    public double Report(WeightSet weights, string split) => double.NaN;

    public WeightSet Fused() => _slots.Count > 0 ? _slots[0].Weights.Clone() : throw new InvalidOperationException("not synced");

    public void Dispose()
    {
    }
}

/// <summary>The simulated evaluation itself: a log-normal wait, recorded in the stats, then a score by the options' rule.</summary>
internal sealed class SimulatedOutcome(SimulationOptions options, SimulationStats stats, int evaluatorIndex)
{
    private static long _improving;
    private readonly Random _rng = new(options.Seed * 7919 + evaluatorIndex);

    public double Next()
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
}

/// <summary>
/// A cheap scorer for the memory and service benchmarks: it reads every tensor of the weights it scores (one strided
/// pass over each, as a real evaluator must at least load them), then waits and scores like <see cref="SimulatedFitness"/>.
/// The read's checksum is kept so the pass cannot be optimized away.
/// </summary>
public sealed class SimulatedScorer(SimulationOptions options, SimulationStats stats, int evaluatorIndex) : ICandidateScorer
{
    private readonly SimulatedOutcome _outcome = new(options, stats, evaluatorIndex);

    /// <summary>The sum of everything read so far.</summary>
    public double Checksum { get; private set; }

    public IReadOnlyCollection<string> SplitNames { get; } = [PopulationFitness.DevSplit];

    public double Score(WeightSet weights, string split)
    {
        ArgumentNullException.ThrowIfNull(weights);
        foreach (var (_, tensor) in weights.Entries())
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            // Every 1024th element: touches every page of a float32 tensor (4 kB), cheap arithmetic.
            Checksum += tensor.flatten()[TorchSharp.torch.TensorIndex.Slice(null, null, 1024)].to(TorchSharp.torch.ScalarType.Float64).sum().item<double>();
        }
        return _outcome.Next();
    }

    public void Dispose()
    {
    }
}
