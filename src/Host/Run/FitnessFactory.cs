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
    /// <remarks><paramref name="admittedStatistics"/>: the statistics of members admitted while running, by id (the run's population snapshots).</remarks>
    public static Func<Device, IPopulationFitness> Create(RunConfiguration config, RunPopulation population, IEvaluationTask? task, TaskData? data,
        Action<string>? log = null, Func<string, Device, WeightSet?>? admittedStatistics = null)
    {
        var index = 0;
        return device =>
        {
            var scorer = Scorer(config, population, task, data, device, Interlocked.Increment(ref index) - 1, log);
            // External evaluators score files: their merges live in this process's memory, not on their device.
            var mergeDevice = config.Evaluator.IsExternal ? CPU : device;
            try
            {
                return WithMode(config.Settings, scorer, population, mergeDevice, admittedStatistics);
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

    private static IPopulationFitness WithMode(RunSettings settings, ICandidateScorer scorer, RunPopulation population, Device device,
        Func<string, Device, WeightSet?>? admittedStatistics)
    {
        if (settings.Mode == FitnessMode.Individual)
        {
            return new IndividualFitness(scorer);
        }
        IMemberStatistics statistics = StatisticsKindOf(settings) is { } kind
            ? new RunMemberStatistics(population, kind, device, admittedStatistics)
            : new FixedMemberStatistics(MergeInputs.None);
        try
        {
            return Merged(settings, scorer, statistics);
        }
        catch
        {
            statistics.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Merged fitness: a resident incremental merge, or under <c>memory.max-resident</c> one merged from the memory-mapped
    /// members per candidate, tensor by tensor (docs/architecture.md §3). Owns <paramref name="statistics"/> once made.
    /// </summary>
    public static IPopulationFitness Merged(RunSettings settings, ICandidateScorer scorer, IMemberStatistics statistics) =>
        settings.MaxResidentBytes > 0
            ? new StreamingMergedFitness(scorer, settings.MergeMethod, settings.MergeParameters, statistics)
            : new MergedFitness(scorer, settings.MergeMethod, settings.MergeParameters, statistics);

    /// <summary>The kind of per-member statistics a run's merge needs (merged fisher or regmean), or null.</summary>
    public static StatisticsKind? StatisticsKindOf(RunSettings settings) => settings.Mode != FitnessMode.Merged ? null : settings.MergeMethod switch
    {
        FisherMerge.MethodName => StatisticsKind.Fisher,
        RegMeanMerge.MethodName => StatisticsKind.Gram,
        _ => null,
    };

    /// <summary>
    /// Refuses, before a run directory is touched, merged-mode statistics that are missing or are not statistics of
    /// the method's kind for this population (each file is read once and checked, then let go).
    /// </summary>
    public static void RequireStatistics(RunSettings settings, RunPopulation population)
    {
        if (StatisticsKindOf(settings) is { } kind)
        {
            RunMemberStatistics.RequireStarting(population, kind);
        }
    }
}
