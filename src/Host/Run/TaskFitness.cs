using EvolverActors.Actors.Run;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>The task's data, batcher and metric for one run (selection on dev; test and ood are for reports).</summary>
internal sealed record TaskData(string Family, LabelledSet Dev, LabelledSet Test, LabelledSet Ood, IBatcher Batcher, Metric Metric)
{
    public static TaskData Load(string task, int seed, bool quick)
    {
        var config = HoconFiles.LoadTask(task);
        switch (task)
        {
            case MnistNonIidRecipe.Name:
                var mnist = MnistNonIidRecipe.LoadData(AssetStore.Default, seed, TaskSettings.MnistNonIid(config));
                return new TaskData(CnnClassifier.FamilyName, mnist.Dev, mnist.Test, mnist.Ood, new ImageBatcher(), Metric.Accuracy);
            case SentimentRecipe.Name:
                var options = TaskSettings.Sentiment(config, quick);
                var text = SentimentRecipe.LoadData(AssetStore.Default, seed, options);
                return new TaskData(Tensors.Models.Bert.BertClassifier.FamilyName, text.Dev, text.Test, text.Ood, SentimentRecipe.Batcher(options), Metric.MacroF1);
            default:
                throw new EvolverException($"unknown task '{task}': known tasks are {MnistNonIidRecipe.Name}, {SentimentRecipe.Name}");
        }
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
