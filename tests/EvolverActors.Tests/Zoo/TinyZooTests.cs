using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Zoo;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Zoo;

/// <summary>A tiny mnist-noniid zoo end to end on real MNIST, then its statistics through stats/merge.</summary>
public sealed class TinyZooTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static readonly MnistNonIidOptions Tiny = new()
    {
        Clients = 2,
        Alpha = 0.3,
        OwnTestSize = 50,
        Pretrain = new TrainingOptions { Epochs = 1, BatchSize = 64, LearningRate = 1e-3, MaxSteps = 5 },
        FineTune = new TrainingOptions { Epochs = 1, BatchSize = 32, LearningRate = 1e-3, MaxSteps = 5 },
        FisherExamples = 8,
        GramExamples = 16,
    };

    private ZooManifest Build(string name, int seed)
    {
        var output = _dir.File(name);
        return RealData.Fetch(() => MnistNonIidRecipe.Build(output, seed, Tiny, AssetStore.Default, CPU, _ => { }));
    }

    [Fact]
    public void Tiny_zoo_writes_models_statistics_and_a_manifest_with_scores()
    {
        var manifest = Build("zoo", seed: 3);
        var zoo = _dir.File("zoo");
        Assert.Equal(2, manifest.Models.Count);
        Assert.Equal(manifest, ZooManifest.Load(zoo) with { }, new ManifestComparer());
        foreach (var model in manifest.Models)
        {
            Assert.InRange(model.Dev, 0, 1);
            Assert.InRange(model.Ood, 0, 1);
            var layout = Checkpoint.ReadLayout(Path.Combine(zoo, model.Path));
            Assert.Contains(layout.Specs, s => s.Name == "classifier.weight");
            Assert.True(File.Exists(Path.Combine(zoo, model.Fisher!)));
            using (var fisher = Checkpoint.Open(Path.Combine(zoo, model.Fisher!)))
            using (var gram = Checkpoint.Open(Path.Combine(zoo, model.Gram!)))
            {
                Assert.Equal("fisher", fisher.Metadata[StatisticsFiles.MetadataKey]);
                Assert.Equal("gram", gram.Metadata[StatisticsFiles.MetadataKey]);
            }
            Assert.Equal(["classifier.weight", "fc1.weight"], Checkpoint.ReadLayout(Path.Combine(zoo, model.Gram!)).Specs.Select(s => s.Name).Order(StringComparer.Ordinal));
        }
        Assert.Contains("average (merge)", manifest.Table(), StringComparison.Ordinal);

        // The splits as files, with a task file that scores every model as the manifest says (same pixels, same model).
        Assert.Equal("task.conf", manifest.TaskFile);
        var task = TaskConfigs.Load(Path.Combine(zoo, manifest.TaskFile!), quick: false);
        Assert.Equal(ImageClassificationTask.Name, task.Kind);
        var first = Path.Combine(zoo, manifest.Models[0].Path);
        var data = task.Load(new TaskLoadContext(manifest.Seed, first));
        using (var evaluator = new ResidentEvaluator(new CnnClassifier(classes: 10), data.Batcher, data.Splits, CPU))
        {
            foreach (var model in manifest.Models)
            {
                using var weights = Checkpoint.Load(Path.Combine(zoo, model.Path));
                evaluator.Load(weights);
                Assert.Equal((model.Dev, model.Test, model.Ood), (evaluator.Evaluate("dev").Accuracy, evaluator.Evaluate("test").Accuracy, evaluator.Evaluate("ood").Accuracy));
            }
        }

        // The saved statistics feed the fisher and regmean merges of the CLI.
        var models = manifest.Models.Select(m => Path.Combine(zoo, m.Path)).ToArray();
        var (code, _, error) = CliRunner.Run(["merge", "-m", "fisher", "--out", _dir.File("fisher"),
            .. manifest.Models.SelectMany(m => new[] { "--fisher", Path.Combine(zoo, m.Fisher!) }), .. models]);
        Assert.True(code == 0, error);
        (code, _, error) = CliRunner.Run(["merge", "-m", "regmean", "--out", _dir.File("regmean"),
            .. manifest.Models.SelectMany(m => new[] { "--gram", Path.Combine(zoo, m.Gram!) }), .. models]);
        Assert.True(code == 0, error);

        // Given the wrong files, they are refused, naming what was given instead: a model, or the other statistics.
        (code, _, error) = CliRunner.Run(["merge", "-m", "fisher", "--out", _dir.File("wrong"), .. models.SelectMany(m => new[] { "--fisher", m }), .. models]);
        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: {models[0]}: is a model checkpoint, not Fisher statistics", error.Split(" (")[0]);
        (code, _, error) = CliRunner.Run(["merge", "-m", "regmean", "--out", _dir.File("wrong"),
            .. manifest.Models.SelectMany(m => new[] { "--gram", Path.Combine(zoo, m.Fisher!) }), .. models]);
        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: {Path.Combine(zoo, manifest.Models[0].Fisher!)}: holds Fisher statistics (declared in its __metadata__), not Gram statistics", error.TrimEnd());
        Assert.False(Directory.Exists(_dir.File("wrong")));
    }

    [Fact]
    public void Same_seed_builds_the_same_zoo()
    {
        var first = Build("a", seed: 5);
        var second = Build("b", seed: 5);
        Assert.Equal(first.Models.Select(m => (m.Dev, m.Test, m.Ood, m.Own)), second.Models.Select(m => (m.Dev, m.Test, m.Ood, m.Own)));
        using var a = Checkpoint.Load(Path.Combine(_dir.File("a"), first.Models[1].Path));
        using var b = Checkpoint.Load(Path.Combine(_dir.File("b"), second.Models[1].Path));
        Assert.True(a["fc1.weight"].equal(b["fc1.weight"]).all().item<bool>());
    }

    /// <summary>Compares manifests by their JSON-visible content (records holding lists compare lists by reference).</summary>
    private sealed class ManifestComparer : IEqualityComparer<ZooManifest>
    {
        public bool Equals(ZooManifest? x, ZooManifest? y) =>
            x is not null && y is not null && x.Recipe == y.Recipe && x.Seed == y.Seed && x.Average == y.Average && x.Models.SequenceEqual(y.Models);

        public int GetHashCode(ZooManifest obj) => obj.Recipe.GetHashCode(StringComparison.Ordinal);
    }
}
