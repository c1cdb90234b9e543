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

    /// <summary>
    /// Logit margin (top-1 minus top-2) above which a dev example counts as away from the decision boundary. Merges of
    /// the same members computed in different orders (a full merge and an incremental one; another CPU's BLAS or LAPACK
    /// kernels) agree to a tolerance, never to the bit: measured on these populations, average and fisher logits differ
    /// by about 1e-7; regmean's by up to 8e-4 (its linear solve is ill-conditioned here: single weights differ by up to
    /// 0.1). An example whose margin is more than twice the logit difference keeps its class; 1e-2 leaves a factor of six
    /// over regmean's.
    /// </summary>
    public const double ClearMargin = 1e-2;

    /// <summary>A new evaluator with the dev and test splits (its skeleton's initial weights do not matter).</summary>
    public static ResidentEvaluator Evaluator() => Evaluator(Dev);

    /// <summary>A new evaluator whose dev split is <paramref name="dev"/> (e.g. <see cref="ClearDev"/>), plus the test split.</summary>
    public static ResidentEvaluator Evaluator(LabelledSet dev) =>
        new(new CnnClassifier(classes: Classes), new ImageBatcher(), [dev, Test], CPU, batchSize: 40);

    /// <summary>
    /// The dev examples that a full merge of every population in <paramref name="populations"/> classifies with a logit
    /// margin above <see cref="ClearMargin"/>, as the dev split. A score is a step function of the weights: one example
    /// on the boundary flips with the last bit of a sum (an AMD EPYC scored a regmean candidate 0.5625 where Intel
    /// scores 0.55), so scores of merges computed in different orders are equal only on these examples, and equal
    /// there they must be. At least two thirds of dev must be clear, so that the comparison keeps its meaning (these
    /// barely trained members leave many examples near a tie: 60 of 80 are clear of all seven regmean merges).
    /// </summary>
    public static LabelledSet ClearDev(
        ResidentEvaluator reference, string method, IEnumerable<IReadOnlyList<WeightSet>> populations, MergeInputs inputs)
    {
        var clear = Enumerable.Repeat(true, Dev.Count).ToArray();
        foreach (var population in populations)
        {
            using var merged = MergeRegistry.Get(method).Merge(population, inputs);
            reference.Load(merged);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = new ImageBatcher().Make(Dev, [.. Enumerable.Range(0, Dev.Count)], CPU);
            var top = reference.Model.forward(input).topk(2, dim: 1).values;
            var margins = (top[.., 0] - top[.., 1]).data<float>().ToArray();
            for (var i = 0; i < margins.Length; i++)
            {
                clear[i] &= margins[i] > ClearMargin;
            }
        }
        var kept = Enumerable.Range(0, Dev.Count).Where(i => clear[i]).ToList();
        Xunit.Assert.True(3 * kept.Count >= 2 * Dev.Count, $"only {kept.Count} of {Dev.Count} dev examples are away from the decision boundary");
        return Dev.Subset(PopulationFitness.DevSplit, kept);
    }

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
