using EvolverActors.Actors.Run;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>The task's data, batcher and metric for one run (selection on dev; test and ood are for reports).</summary>
internal sealed record TaskData(string Family, LabelledSet Dev, LabelledSet Test, LabelledSet Ood, IBatcher Batcher, Metric Metric)
{
    /// <summary>
    /// Resolves <paramref name="task"/> (a built-in task name or a task file's path) through the task registry and
    /// loads its splits. This run path reports test and ood, so the task must have both.
    /// </summary>
    public static TaskData Load(string task, int seed, bool quick, string? firstMember = null)
    {
        var resolved = TaskConfigs.Load(task, quick);
        var data = resolved.Load(new TaskLoadContext(seed, firstMember));
        var test = data.Test ?? throw new EvolverException($"task '{task}' has no test split, which this run path reports (add test = ... to the task)");
        var ood = data.Ood ?? throw new EvolverException($"task '{task}' has no ood split, which this run path reports (add ood = ... to the task)");
        return new TaskData(resolved.Family, data.Dev, test, ood, data.Batcher, resolved.Metric);
    }
}

/// <summary>Makes each evaluator's fitness: a resident skeleton with the task's splits, plus merge statistics per slot.</summary>
internal static class TaskFitness
{
    public static Func<Device, IPopulationFitness> Factory(RunSettings settings, RunPopulation population, TaskData data) => device =>
    {
        using var first = Checkpoint.Load(population.Members[0], floatType: ScalarType.Float32);
        var skeleton = ModelFamilies.SkeletonFor(data.Family, first, population.Members[0]);
        var evaluator = new ResidentEvaluator(skeleton, data.Batcher, [Named(data.Dev, "dev"), Named(data.Test, "test"), Named(data.Ood, "ood")], device);
        if (settings.Mode == FitnessMode.Individual)
        {
            return new IndividualFitness(evaluator, data.Metric);
        }
        var statistics = new List<WeightSet>();
        MergeInputs inputs;
        try
        {
            inputs = settings.MergeMethod switch
            {
                FisherMerge.MethodName => new MergeInputs { Fisher = LoadAll(population.Fisher, "Fisher", device, statistics) },
                RegMeanMerge.MethodName => new MergeInputs { Grams = LoadAll(population.Grams, "Gram", device, statistics) },
                _ => MergeInputs.None,
            };
        }
        catch
        {
            statistics.ForEach(s => s.Dispose());
            evaluator.Dispose();
            throw;
        }
        return new OwningFitness(new MergedFitness(evaluator, data.Metric, settings.MergeMethod, settings.MergeParameters, inputs), statistics);
    };

    private static LabelledSet Named(LabelledSet set, string name) => set.Name == name ? set : set switch
    {
        ImageSet images => images with { Name = name },
        TextSet texts => texts with { Name = name },
        _ => set,
    };

    private static List<WeightSet> LoadAll(IReadOnlyList<string?> paths, string kind, Device device, List<WeightSet> owned)
    {
        var sets = new List<WeightSet>();
        for (var slot = 0; slot < paths.Count; slot++)
        {
            var path = paths[slot] ?? throw new EvolverException($"slot {slot} has no {kind} statistics in the zoo (rebuild it, or use merge-method = average)");
            var set = Checkpoint.Load(path, device);
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
        public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots) => inner.Sync(version, slots);
        public double ScoreCandidate(int slot, WeightSet child) => inner.ScoreCandidate(slot, child);
        public double ScorePopulation() => inner.ScorePopulation();
        public IReadOnlyList<double> ScoreMembers() => inner.ScoreMembers();
        public Score Report(WeightSet weights, string split) => inner.Report(weights, split);
        public WeightSet Fused() => inner.Fused();

        public void Dispose()
        {
            inner.Dispose();
            owned.ForEach(s => s.Dispose());
        }
    }
}
