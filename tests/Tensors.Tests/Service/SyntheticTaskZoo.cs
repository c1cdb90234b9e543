using System.Text.Json;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Service;

/// <summary>
/// A small zoo on synthetic images with a data-driven task file (image-classification on IDX files), so that the
/// end-to-end service tests run everywhere, without fetched data: a cnn base trained for a few steps, then one member
/// per label-skewed partition, scored on dev / test / ood. The images are noisy enough (class c: a faint, partial
/// band at row 2c + 2 in noise) that undertrained members leave room for evolution to improve them.
/// </summary>
internal static class SyntheticTaskZoo
{
    public const int Classes = 10;

    /// <summary>Writes the zoo into <paramref name="directory"/>; returns the path of its task file.</summary>
    public static string Write(string directory, int seed, int members = 3, int baseSteps = 10, int memberSteps = 20)
    {
        var train = Faint("train", 400, seed, noise: 0.5);
        ImageSet[] splits = [Faint("dev", 200, seed + 1, noise: 0.5), Faint("test", 200, seed + 2, noise: 0.5), Faint("ood", 100, seed + 3, noise: 0.7)];
        var task = ZooDataExport.WriteImages(directory, "synthetic-bands", splits, Metric.Accuracy);
        var batcher = new ImageBatcher();
        random.manual_seed(seed);
        using var baseModel = new CnnClassifier(Classes);
        Trainer.Fit(baseModel, batcher, train, Options(seed, steps: baseSteps), CPU);
        using var baseWeights = baseModel.ExportWeights();
        Checkpoint.Save(Path.Combine(directory, "base"), baseWeights);

        using var evaluator = new ResidentEvaluator(new CnnClassifier(Classes), batcher, splits, CPU);
        SplitScores Scores(WeightSet weights)
        {
            evaluator.Load(weights);
            return new SplitScores(evaluator.Evaluate("dev").Accuracy, evaluator.Evaluate("test").Accuracy, evaluator.Evaluate("ood").Accuracy);
        }
        var models = new List<ZooModel>();
        var weights = new List<WeightSet>();
        try
        {
            for (var k = 0; k < members; k++)
            {
                var mine = Enumerable.Range(0, train.Count).Where(i => train.Labels[i] % members == k || i % 8 == 0).ToList();
                using var model = new CnnClassifier(Classes);
                model.LoadWeights(baseWeights);
                Trainer.Fit(model, batcher, train.Subset($"part-{k}", mine), Options(seed + k + 1, steps: memberSteps), CPU);
                weights.Add(model.ExportWeights());
                var path = Path.Combine("models", $"model-{k}");
                Checkpoint.Save(Path.Combine(directory, path), weights[k]);
                var scores = Scores(weights[k]);
                models.Add(new ZooModel($"model-{k}", path, scores.Dev, scores.Test, scores.Ood, null, $"{mine.Count} band images"));
            }
            using var average = new Tensors.Merging.AverageMerge().Merge(weights, Tensors.Merging.MergeInputs.None);
            new ZooManifest("synthetic-bands", task, CnnClassifier.FamilyName, "accuracy", seed, "base", new Dictionary<string, JsonElement>(),
                models, Scores(average), Scores(baseWeights), 0, ZooDataExport.TaskFileName).Save(directory);
        }
        finally
        {
            weights.ForEach(w => w.Dispose());
        }
        return task;
    }

    /// <summary>Class c: a band of brightness ~0.5 on rows 2c + 2 and 2c + 3, over a random half of the width, in uniform noise.</summary>
    private static ImageSet Faint(string name, int count, int seed, double noise)
    {
        var rng = new Random(seed);
        var images = new List<float[]>();
        var labels = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var label = i % Classes;
            var pixels = new float[28 * 28];
            for (var p = 0; p < pixels.Length; p++)
            {
                pixels[p] = (float)(rng.NextDouble() * noise);
            }
            var start = rng.Next(0, 14);
            for (var x = start; x < start + 14; x++)
            {
                foreach (var row in new[] { (2 * label) + 2, (2 * label) + 3 })
                {
                    pixels[(row * 28) + x] = Math.Min(1f, pixels[(row * 28) + x] + (float)(0.3 + (0.4 * rng.NextDouble())));
                }
            }
            images.Add(pixels);
            labels.Add(label);
        }
        return new ImageSet(name, images, 28, 28, labels, [.. Enumerable.Range(0, Classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    private static TrainingOptions Options(int seed, int steps) => new() { BatchSize = 16, LearningRate = 2e-3, MaxSteps = steps, Seed = seed };
}
