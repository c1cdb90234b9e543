using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EvolverActors.Actors.Steward;

namespace EvolverActors.Actors.Run;

/// <summary>
/// One node's metrics of a run (docs/architecture.md §6), as <see cref="System.Diagnostics.Metrics"/> instruments that
/// the node's HTTP endpoint exports with OpenTelemetry (Prometheus text at <c>/metrics</c>, OTLP when configured). Each
/// instance has a meter of its own (<see cref="MeterName"/>), so that two runs in one process (tests) never mix.
/// Totals come from the steward's ledger (they agree with `evolver status` and survive a resume); durations are
/// recorded where they happen. No label names an offspring: labels are mode, operator, device and evaluator. An
/// operator's evaluations are its acceptances plus its rejections.
/// </summary>
public sealed class RunMetrics : IDisposable
{
    /// <summary>Every run's meter name starts with this (OpenTelemetry: <c>AddMeter(MeterPrefix + "*")</c> takes them all).</summary>
    public const string MeterPrefix = "EvolverActors.Run.";

    private readonly Meter _meter;
    private readonly Histogram<double> _evaluationSeconds;
    private readonly Histogram<double> _journalWriteSeconds;
    private readonly ConcurrentDictionary<string, EvaluatorLoad> _evaluators = new(StringComparer.Ordinal);
    private volatile LedgerTotals? _totals;
    private long _breederQueue;

    public RunMetrics(string mode)
    {
        Mode = mode;
        MeterName = MeterPrefix + Guid.NewGuid().ToString("N")[..12];
        _meter = new Meter(MeterName);
        _meter.CreateObservableCounter("evolver.evaluations", () => Totals(t => t.Evaluations),
            "{evaluation}", "Evaluations counted toward the budget (the initial population's, decided offspring's and failed ones), as evolver status");
        _meter.CreateObservableCounter("evolver.acceptances", () => ByOperator(t => t.Accepted, _ => 0),
            "{acceptance}", "Offspring that replaced a member, by mode and operator");
        _meter.CreateObservableCounter("evolver.rejections", () => ByOperator(_ => 0, t => t.Rejected),
            "{rejection}", "Offspring scored and not accepted, by mode and operator");
        _meter.CreateObservableCounter("evolver.failed.evaluations", () => Totals(t => t.Failed),
            "{evaluation}", "Offspring whose evaluation failed on every retry (counted toward the budget)");
        _meter.CreateObservableGauge("evolver.best.dev.score", () => Totals(t => t.BestDev), null, "Best dev score of the population (individual: best member; merged: S)");
        _meter.CreateObservableGauge("evolver.population.score", () => Totals(t => t.PopulationScore ?? double.NaN), null, "Dev score of the fused population (merged mode)");
        _meter.CreateObservableGauge("evolver.population.version", () => Totals(t => t.Version), "{version}", "Acceptances so far (the population's version)");
        _meter.CreateObservableGauge("evolver.population.members", () => Totals(t => t.Members), "{member}", "Members of the population");
        _meter.CreateObservableGauge("evolver.evaluator.busy.ratio", EvaluatorBusy, null, "Share of the time since its start an evaluator spent scoring");
        _meter.CreateObservableGauge("evolver.breeder.queue.depth", () => Interlocked.Read(ref _breederQueue), "{offspring}", "Offspring bred and waiting for an evaluator");
        _meter.CreateObservableGauge("evolver.resident.weights", () => ResidentBytes?.Invoke() ?? 0, "By", "Bytes of weights this node holds in memory");
        _meter.CreateObservableGauge("evolver.process.memory", () => Environment.WorkingSet, "By", "Resident memory of this node's process");
        _evaluationSeconds = _meter.CreateHistogram<double>("evolver.evaluation.duration", "s", "Time to score one offspring, by device", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _journalWriteSeconds = _meter.CreateHistogram<double>("evolver.journal.write.duration", "s", "Time to store one batch of decisions in the journal", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5] });
    }

    /// <summary>The meter's name (unique per instance).</summary>
    public string MeterName { get; }

    /// <summary>The run's fitness mode, a label of the decision counters.</summary>
    public string Mode { get; }

    /// <summary>Reads this node's resident weight bytes (set by the host; null: 0).</summary>
    public Func<long>? ResidentBytes { get; set; }

    /// <summary>The steward's ledger after its latest decisions (the coordinator only).</summary>
    public void Publish(StewardState ledger, RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(settings);
        _totals = new LedgerTotals(
            new Dictionary<string, long>(ledger.AcceptedByOperator, StringComparer.Ordinal),
            new Dictionary<string, long>(ledger.RejectedByOperator, StringComparer.Ordinal),
            ledger.Evaluations, ledger.Failed, ledger.BestDev(settings.Mode), ledger.PopulationScore, ledger.Version, ledger.Initialized ? ledger.ActiveCount : ledger.SlotWeights.Length);
    }

    public void EvaluationTook(string device, string evaluator, TimeSpan duration)
    {
        _evaluationSeconds.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("device", device));
        _evaluators.GetOrAdd(evaluator, _ => new EvaluatorLoad(device)).AddBusy(duration);
    }

    /// <summary>An evaluator started (its busy ratio counts from now).</summary>
    public void EvaluatorStarted(string device, string evaluator) => _evaluators.GetOrAdd(evaluator, _ => new EvaluatorLoad(device));

    public void JournalWriteTook(TimeSpan duration) => _journalWriteSeconds.Record(duration.TotalSeconds);

    public void BreederQueue(int depth) => Interlocked.Exchange(ref _breederQueue, depth);

    public void Dispose() => _meter.Dispose();

    /// <summary>This node's evaluators: name, device, share of time busy, offspring scored (the live page).</summary>
    public IReadOnlyList<(string Name, string Device, double BusyRatio, long Scored)> Evaluators() =>
        [.. _evaluators.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value.Device, kv.Value.BusyRatio(), kv.Value.Scored))];

    private IEnumerable<Measurement<long>> ByOperator(Func<Counts, long> accepted, Func<Counts, long> rejected)
    {
        if (_totals is not { } totals)
        {
            yield break;
        }
        foreach (var op in totals.AcceptedByOperator.Keys.Union(totals.RejectedByOperator.Keys).Order(StringComparer.Ordinal))
        {
            var counts = new Counts(totals.AcceptedByOperator.GetValueOrDefault(op), totals.RejectedByOperator.GetValueOrDefault(op));
            yield return new Measurement<long>(accepted(counts) + rejected(counts), new("mode", Mode), new("operator", op));
        }
    }

    private IEnumerable<Measurement<T>> Totals<T>(Func<LedgerTotals, T> read)
        where T : struct
    {
        if (_totals is { } totals)
        {
            yield return new Measurement<T>(read(totals), new KeyValuePair<string, object?>("mode", Mode));
        }
    }

    private IEnumerable<Measurement<double>> EvaluatorBusy() =>
        _evaluators.Select(kv => new Measurement<double>(kv.Value.BusyRatio(),
            new KeyValuePair<string, object?>("device", kv.Value.Device), new KeyValuePair<string, object?>("evaluator", kv.Key)));

    private readonly record struct Counts(long Accepted, long Rejected);

    private sealed record LedgerTotals(Dictionary<string, long> AcceptedByOperator, Dictionary<string, long> RejectedByOperator,
        long Evaluations, long Failed, double BestDev, double? PopulationScore, long Version, int Members);

    /// <summary>An evaluator's time spent scoring since it started.</summary>
    private sealed class EvaluatorLoad(string device)
    {
        private readonly long _started = Environment.TickCount64;
        private long _busyTicks;

        public string Device { get; } = device;

        private long _scored;

        public long Scored => Interlocked.Read(ref _scored);

        public void AddBusy(TimeSpan busy)
        {
            Interlocked.Add(ref _busyTicks, busy.Ticks);
            Interlocked.Increment(ref _scored);
        }

        public double BusyRatio()
        {
            var elapsed = TimeSpan.FromMilliseconds(Math.Max(1, Environment.TickCount64 - _started));
            return Math.Min(1, TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks)) / elapsed);
        }
    }
}
