using EvolverActors.Actors.Run;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// Makes each evaluator's fitness (docs/architecture.md, "Evaluation"): a scorer — a resident model of the task's
/// family with the task's splits, or an external evaluator fed candidates through scratch — under the run's fitness
/// mode, with the merge statistics per slot in merged mode.
/// </summary>
internal static class FitnessFactory
{
    public static Func<Device, IPopulationFitness> Create(RunConfiguration config, RunPopulation population, IEvaluationTask? task, TaskData? data,
        Action<string>? log = null)
    {
        var index = 0;
        return device =>
        {
            var scorer = Scorer(config, population, task, data, device, Interlocked.Increment(ref index) - 1, log);
            // External evaluators score files: their merges live in this process's memory, not on their device.
            var mergeDevice = config.Evaluator.IsExternal ? CPU : device;
            try
            {
                return WithMode(config.Settings, scorer, population, mergeDevice);
            }
            catch
            {
                scorer.Dispose();
                throw;
            }
        };
    }

    /// <summary>The scorer a run's evaluator number <paramref name="index"/> uses on <paramref name="device"/> (also what <c>evolver score</c> uses).</summary>
    public static ICandidateScorer Scorer(RunConfiguration config, RunPopulation population, IEvaluationTask? task, TaskData? data, Device device,
        int index, Action<string>? log) =>
        config.Evaluator.IsExternal
            ? External(config.Evaluator, population, device, index, log)
            : Builtin(task ?? throw new EvolverException($"{config.Source}: the built-in evaluator needs a task"), data!, population, device);

    /// <summary>The built-in scorer on <paramref name="device"/>: the task's family shaped like the first member, with the task's splits resident.</summary>
    public static ICandidateScorer Builtin(IEvaluationTask task, TaskData data, RunPopulation population, Device device)
    {
        using var first = Checkpoint.Load(population.Members[0], floatType: ScalarType.Float32);
        var skeleton = ModelFamilies.SkeletonFor(task.Family, first, population.Members[0]);
        return new ResidentScorer(new ResidentEvaluator(skeleton, data.Batcher, data.Splits, device), task.Metric);
    }

    /// <summary>
    /// Refuses, before anything starts, a population that the task's model family cannot load (wrong tensors or
    /// shapes) or whose classifier has fewer classes than the task's data.
    /// </summary>
    public static void RequireFits(IEvaluationTask task, TaskData data, RunPopulation population)
    {
        using var first = Checkpoint.Load(population.Members[0], floatType: ScalarType.Float32);
        using var skeleton = ModelFamilies.SkeletonFor(task.Family, first, population.Members[0]);
        try
        {
            skeleton.LoadWeights(first);
        }
        catch (PopulationMismatchException e)
        {
            throw new EvolverException($"{population.Members[0]}: does not fit task '{task.Kind}' (model family '{task.Family}'): {e.Message}");
        }
        var classes = data.Splits.Max(s => s.ClassCount);
        if (classes > skeleton.ClassCount)
        {
            throw new EvolverException($"{population.Members[0]}: its classifier has {skeleton.ClassCount} classes but task '{task.Kind}' has {classes}");
        }
    }

    private static ExternalCandidateScorer External(EvaluatorSpec spec, RunPopulation population, Device device, int index, Action<string>? log)
    {
        var deviceName = device.type == DeviceType.CUDA ? (device.index >= 0 ? $"cuda:{device.index}" : "cuda") : "cpu";
        var name = $"{spec.Kind.ToString().ToLowerInvariant()}-{index}-{deviceName.Replace(':', '-')}";
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["EVOLVER_DEVICE"] = device.type == DeviceType.CUDA ? "cuda" : "cpu",
            ["EVOLVER_EVALUATOR"] = name,
            // cuda:N → the worker sees exactly GPU N (as its cuda:0); cpu → no GPU at all.
            ["CUDA_VISIBLE_DEVICES"] = device.type == DeviceType.CUDA ? Math.Max(0, (int)device.index).ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
        };
        ICheckpointScorer scorer = spec.Kind switch
        {
            EvaluatorKind.Worker => new WorkerEvaluator(name, spec.Command, spec.Timeout, environment, log),
            EvaluatorKind.Command => new CommandEvaluator(name, spec.Command[0], [.. spec.Command.Skip(1)], spec.Timeout, environment),
            EvaluatorKind.Http => new HttpEvaluator(name, spec.Url!, spec.Timeout),
            _ => throw new InvalidOperationException($"not an external evaluator kind: {spec.Kind}"),
        };
        var writer = new CandidateWriter(spec.Scratch, $"{name}-{Environment.ProcessId}", population.Members[0]);
        return new ExternalCandidateScorer(scorer, writer, spec.Splits);
    }

    private static IPopulationFitness WithMode(RunSettings settings, ICandidateScorer scorer, RunPopulation population, Device device)
    {
        if (settings.Mode == FitnessMode.Individual)
        {
            return new IndividualFitness(scorer);
        }
        var statistics = new List<WeightSet>();
        try
        {
            var inputs = settings.MergeMethod switch
            {
                FisherMerge.MethodName => new MergeInputs { Fisher = LoadAll(population, StatisticsKind.Fisher, device, statistics) },
                RegMeanMerge.MethodName => new MergeInputs { Grams = LoadAll(population, StatisticsKind.Gram, device, statistics) },
                _ => MergeInputs.None,
            };
            return new OwningFitness(Merged(settings, scorer, inputs), statistics);
        }
        catch
        {
            statistics.ForEach(s => s.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Merged fitness: a resident incremental merge, or under <c>memory.max-resident</c> one merged from the memory-mapped
    /// members per candidate, tensor by tensor (docs/architecture.md §3).
    /// </summary>
    public static IPopulationFitness Merged(RunSettings settings, ICandidateScorer scorer, MergeInputs inputs) =>
        settings.MaxResidentBytes > 0
            ? new StreamingMergedFitness(scorer, settings.MergeMethod, settings.MergeParameters, inputs)
            : new MergedFitness(scorer, settings.MergeMethod, settings.MergeParameters, inputs);

    /// <summary>
    /// Refuses, before a run directory is touched, merged-mode statistics that are missing or are not statistics of
    /// the method's kind for this population (each file is read once and checked, then let go).
    /// </summary>
    public static void RequireStatistics(RunSettings settings, RunPopulation population)
    {
        if (settings.Mode != FitnessMode.Merged || settings.MergeMethod is not (FisherMerge.MethodName or RegMeanMerge.MethodName))
        {
            return;
        }
        var kind = settings.MergeMethod == FisherMerge.MethodName ? StatisticsKind.Fisher : StatisticsKind.Gram;
        var layout = Checkpoint.ReadLayout(population.Members[0]);
        var paths = kind == StatisticsKind.Fisher ? population.Fisher : population.Grams;
        for (var slot = 0; slot < paths.Count; slot++)
        {
            StatisticsFiles.Load(StatisticsPath(paths, slot, kind), kind, layout).Dispose();
        }
    }

    private static string StatisticsPath(IReadOnlyList<string?> paths, int slot, StatisticsKind kind) => paths[slot] ?? throw new EvolverException(
        $"slot {slot} has no {StatisticsFiles.Code(kind)} statistics (give population.statistics.{StatisticsFiles.Code(kind)} = [...], rebuild the zoo, or use merge-method = average)");

    /// <summary>Each slot's statistics, checked to be statistics of that kind for this population's layout, on <paramref name="device"/>.</summary>
    private static List<WeightSet> LoadAll(RunPopulation population, StatisticsKind kind, Device device, List<WeightSet> owned)
    {
        var paths = kind == StatisticsKind.Fisher ? population.Fisher : population.Grams;
        var layout = Checkpoint.ReadLayout(population.Members[0]);
        var sets = new List<WeightSet>();
        for (var slot = 0; slot < paths.Count; slot++)
        {
            var path = StatisticsPath(paths, slot, kind);
            var set = StatisticsFiles.Load(path, kind, layout);
            if (device.type != DeviceType.CPU)
            {
                var onDevice = Checkpoint.Load(path, device);
                set.Dispose();
                set = onDevice;
            }
            owned.Add(set);
            sets.Add(set);
        }
        return sets;
    }

    /// <summary>Disposes the per-slot statistics together with the fitness that reads them.</summary>
    private sealed class OwningFitness(IPopulationFitness inner, List<WeightSet> owned) : IPopulationFitness
    {
        public string Mode => inner.Mode;
        public long Version => inner.Version;
        public IReadOnlyCollection<string> Splits => inner.Splits;
        public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots) => inner.Sync(version, slots);
        public double ScoreCandidate(int slot, WeightSet child) => inner.ScoreCandidate(slot, child);
        public double ScorePopulation() => inner.ScorePopulation();
        public IReadOnlyList<double> ScoreMembers() => inner.ScoreMembers();
        public double Report(WeightSet weights, string split) => inner.Report(weights, split);
        public WeightSet Fused() => inner.Fused();

        public void Dispose()
        {
            inner.Dispose();
            owned.ForEach(s => s.Dispose());
        }
    }
}
