using EvolverActors.Host.Config;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Zoo;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Zoo;

/// <summary>
/// A tiny sentiment-minilm zoo on the real corpora: its exported JSONL splits and task.conf (text-classification,
/// tokenizer from the members' vocab.txt) score every member exactly as the zoo's manifest says.
/// </summary>
public sealed class SentimentZooExportTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_exported_text_task_scores_every_member_as_the_manifest_says()
    {
        var options = new SentimentOptions
        {
            Domains = [PatternCorpus.EnglishMovieSentences, PatternCorpus.FrenchReviews],
            TrainPerDomain = 16,
            DevPerDomain = 8,
            TestPerDomain = 8,
            OodExamples = 16,
            MaxLength = 32,
            FineTune = new TrainingOptions { Epochs = 1, BatchSize = 8, LearningRate = 2e-4, MaxSteps = 1 },
            FisherExamples = 0,
            GramExamples = 0,
        };
        var zoo = _dir.File("zoo");
        var manifest = RealData.Fetch(() => SentimentRecipe.Build(zoo, 1, options, AssetStore.Default, CPU, _ => { }));

        Assert.Equal(["dev.jsonl", "ood.jsonl", "test.jsonl"], Directory.GetFiles(Path.Combine(zoo, "data")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(manifest.Models, m => Assert.True(File.Exists(Path.Combine(zoo, m.Path, WordPieceTokenizer.VocabularyFileName))));
        var task = Assert.IsType<TextClassificationTask>(TaskConfigs.Load(Path.Combine(zoo, manifest.TaskFile!), quick: false));
        Assert.Equal((Metric.MacroF1, (int?)32), (task.Metric, task.Settings.MaxLength));
        Assert.Equal(["negative", "positive"], task.Settings.Labels);
        var first = Path.Combine(zoo, manifest.Models[0].Path);
        var data = task.Load(new TaskLoadContext(manifest.Seed, first));
        using var skeletonWeights = Checkpoint.Load(first, floatType: ScalarType.Float32);
        using var evaluator = new ResidentEvaluator(ModelFamilies.SkeletonFor(task.Family, skeletonWeights, first), data.Batcher, data.Splits, CPU, batchSize: 32);
        foreach (var model in manifest.Models)
        {
            using var weights = Checkpoint.Load(Path.Combine(zoo, model.Path), floatType: ScalarType.Float32);
            evaluator.Load(weights);
            Assert.Equal((model.Dev, model.Test, model.Ood), (evaluator.Evaluate("dev").MacroF1, evaluator.Evaluate("test").MacroF1, evaluator.Evaluate("ood").MacroF1));
        }
    }
}
