using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Evaluation;

/// <summary>
/// Tiny CNN populations for fitness tests: one shared random base, each member fine-tuned from it for a few steps
/// with its own seed on synthetic band images; dev and test splits resident in an evaluator.
/// </summary>
internal static class FitnessTestData
{
    public const int Classes = 4;

    public static readonly LabelledSet Train = SyntheticImages.Bands("train", 96, Classes, seed: 1);
    public static readonly LabelledSet Dev = SyntheticImages.Bands("dev", 80, Classes, seed: 2);
    public static readonly LabelledSet Test = SyntheticImages.Bands("test", 40, Classes, seed: 3);

    /// <summary>A new evaluator with the dev and test splits (its skeleton's initial weights do not matter).</summary>
    public static ResidentEvaluator Evaluator() =>
        new(new CnnClassifier(classes: Classes), new ImageBatcher(), [Dev, Test], CPU, batchSize: 40);

    /// <summary><paramref name="count"/> members fine-tuned from one base; seeds from <paramref name="firstSeed"/>.</summary>
    public static List<WeightSet> Members(int count, int firstSeed, int steps = 2)
    {
        var members = new List<WeightSet>();
        for (var k = 0; k < count; k++)
        {
            random.manual_seed(100);
            using var model = new CnnClassifier(classes: Classes);
            var options = new TrainingOptions { BatchSize = 16, LearningRate = 1e-3, MaxSteps = steps, Seed = firstSeed + k };
            Trainer.Fit(model, new ImageBatcher(), Train, options, CPU);
            members.Add(model.ExportWeights());
        }
        return members;
    }

    /// <summary>The slots of a population, with ids "{prefix}{slot}".</summary>
    public static List<(string Id, WeightSet Weights)> Slots(IReadOnlyList<WeightSet> members, string prefix) =>
        [.. members.Select((w, i) => (prefix + i, w))];

    /// <summary>The dev score of <paramref name="weights"/> in a separate evaluator.</summary>
    public static double DevScore(ResidentEvaluator reference, WeightSet weights, Metric metric = Metric.Accuracy)
    {
        reference.Load(weights);
        return reference.Evaluate(PopulationFitness.DevSplit).Get(metric);
    }

    /// <summary>The dev score of a full merge of <paramref name="members"/> with <paramref name="method"/>.</summary>
    public static double MergedDevScore(
        ResidentEvaluator reference, string method, IReadOnlyList<WeightSet> members, MergeInputs inputs, Metric metric = Metric.Accuracy)
    {
        using var merged = MergeRegistry.Get(method).Merge(members, inputs);
        return DevScore(reference, merged, metric);
    }

    /// <summary>Positive random Fisher diagonals, one set per member.</summary>
    public static List<WeightSet> RandomFishers(IReadOnlyList<WeightSet> members, int seed)
    {
        using var generator = new Generator((ulong)seed);
        return [.. members.Select(m => m.Map((_, t) => rand(t.shape, generator: generator).add_(0.05)))];
    }

    /// <summary>The Gram matrices of each member's linear layers on the training split.</summary>
    public static List<WeightSet> Grams(IReadOnlyList<WeightSet> members)
    {
        var grams = new List<WeightSet>();
        foreach (var member in members)
        {
            using var model = new CnnClassifier(classes: Classes);
            model.LoadWeights(member);
            grams.Add(MergeStatistics.Grams(model, new ImageBatcher(), Train, examples: 48, CPU));
        }
        return grams;
    }
}
