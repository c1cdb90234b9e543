using EvolverActors.Actors.Storage;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Tasks;
using Xunit;

namespace EvolverActors.Tests.External;

/// <summary>
/// No code, only data files: a list of checkpoint directories evolves with the built-in evaluator on a JSONL
/// text-classification task (Hugging Face BertForSequenceClassification checkpoints as they are) and on an IDX
/// image-classification task, each from a config that `evolver init` wrote, through the CLI.
/// </summary>
public sealed class DataTaskRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private RunStatusView InitAndRun(IReadOnlyList<string> models, string task, string mode, int evaluations)
    {
        var config = _dir.File($"{mode}.conf");
        var (code, _, error) = CliRunner.Run(["init", "--models", .. models, "--task", task, "--mode", mode,
            "--max-evaluations", evaluations.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", config]);
        Assert.True(code == 0, $"init failed: {error}");
        var runs = _dir.File("runs");
        (code, _, error) = CliRunner.Run("run", "--config", config, "--runs", runs);
        Assert.True(code == 0, $"run exited {code}: {error}");
        return RunDirectory.Open(runs, mode).ReadStatus()!;
    }

    [Theory]
    [InlineData("individual")]
    [InlineData("merged")]
    public void Hugging_face_bert_classifiers_evolve_on_a_jsonl_text_task(string mode)
    {
        var models = Enumerable.Range(0, 3).Select(k =>
        {
            using var weights = TaskFiles.BertWeights(classes: 2, seed: 40 + k);
            return TaskFiles.BertCheckpoint(_dir.File($"bert-{k}"), weights, huggingFace: true);
        }).ToList();
        var rng = new Random(1);
        string Sentence(int label) => string.Join(' ', Enumerable.Range(0, 5).Select(_ => TaskFiles.Words[rng.Next(TaskFiles.Words.Length)]))
            + (label == 1 ? " good" : " bad");
        foreach (var split in new[] { "dev", "test" })
        {
            File.WriteAllLines(_dir.File($"{split}.jsonl"), Enumerable.Range(0, 24).Select(i =>
                System.Text.Json.JsonSerializer.Serialize(new { text = Sentence(i % 2), label = i % 2 == 1 ? "positive" : "negative" })));
        }
        var task = TaskFiles.TaskFile(_dir, "kind = text-classification\ndev = dev.jsonl\ntest = test.jsonl\nlabels = [negative, positive]\nmax-length = 16\nmetric = macro-f1");

        var status = InitAndRun(models, task, mode, evaluations: 8);
        Assert.Equal("finished", status.State);
        Assert.Equal(8, status.Evaluations);
        Assert.InRange(status.BestDev, 0, 1);
    }

    [Fact]
    public void Cnn_classifiers_evolve_on_an_idx_image_task()
    {
        var models = Enumerable.Range(0, 3).Select(k => TaskFiles.CnnCheckpoint(_dir.File($"cnn-{k}"), classes: 4, seed: 60 + k)).ToList();
        var dev = TaskFiles.Idx(_dir, "dev", count: 40, classes: 4, seed: 1);
        var ood = TaskFiles.Idx(_dir, "ood", count: 20, classes: 4, seed: 2, gzip: true);
        var task = TaskFiles.TaskFile(_dir,
            $"kind = image-classification\ndev {{ images = \"{dev.Images}\", labels = \"{dev.Labels}\" }}\nood {{ images = \"{ood.Images}\", labels = \"{ood.Labels}\" }}");

        var status = InitAndRun(models, task, "individual", evaluations: 9);
        Assert.Equal("finished", status.State);
        Assert.Equal(9, status.Evaluations);
        Assert.InRange(status.BestDev, 0, 1);
    }

    [Fact]
    public void A_population_that_does_not_fit_the_task_is_refused_before_anything_starts()
    {
        var models = Enumerable.Range(0, 2).Select(k => TaskFiles.CnnCheckpoint(_dir.File($"cnn-{k}"), classes: 4, seed: 70 + k)).ToList();
        var task = TaskFiles.TaskFile(_dir, "kind = text-classification\ndev = dev.jsonl\nvocab = vocab.txt\nlabels = [a, b, c, d]");
        File.WriteAllLines(_dir.File("vocab.txt"), TaskFiles.Vocabulary);
        File.WriteAllText(_dir.File("dev.jsonl"), "{\"text\": \"good film\", \"label\": \"a\"}\n");
        var config = _dir.File("wrong.conf");
        var (code, _, error) = CliRunner.Run(["init", "--models", .. models, "--task", task, "--out", config]);
        Assert.True(code == 0, error);
        (code, _, error) = CliRunner.Run("run", "--config", config, "--runs", _dir.File("runs"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(_dir.File("runs/wrong")), "nothing may be written for a refused run");
    }

    [Fact]
    public void Models_given_as_fisher_statistics_are_refused_before_anything_starts()
    {
        var models = Enumerable.Range(0, 2).Select(k => TaskFiles.CnnCheckpoint(_dir.File($"cnn-{k}"), classes: 4, seed: 80 + k)).ToList();
        var dev = TaskFiles.Idx(_dir, "dev", count: 8, classes: 4, seed: 1);
        var task = TaskFiles.TaskFile(_dir, $"kind = image-classification\ndev {{ images = \"{dev.Images}\", labels = \"{dev.Labels}\" }}");
        var config = _dir.File("fisher.conf");
        var (code, _, error) = CliRunner.Run(["init", "--models", .. models, "--task", task, "--merge-method", "fisher", "--fisher", .. models, "--out", config]);
        Assert.True(code == 0, error);

        (code, _, error) = CliRunner.Run("run", "--config", config, "--runs", _dir.File("runs"));
        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("is a model checkpoint, not Fisher statistics", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.File("runs/fisher")), "nothing may be written for a refused run");
    }
}
