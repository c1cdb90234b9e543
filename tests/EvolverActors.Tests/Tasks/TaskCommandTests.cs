using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Tasks;

/// <summary>The commands that take a task go through the registry: built-in names and task files alike.</summary>
public sealed class TaskCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Stats_on_a_task_file_writes_statistics_in_the_checkpoints_own_names()
    {
        using var weights = TaskFiles.BertWeights(classes: 2, seed: 4);
        var model = TaskFiles.BertCheckpoint(_dir.File("hf"), weights, huggingFace: true);
        File.WriteAllLines(_dir.File("dev.csv"), ["text,label", "good film,1", "bad plot,0", "great fun,1", "dull movie,0"]);
        var task = TaskFiles.TaskFile(_dir, "kind = text-classification\ndev = dev.csv");

        var (code, output, error) = CliRunner.Run("stats", "--task", task, "--model", model, "--out", _dir.File("stats"), "--fisher-examples", "2", "--gram-examples", "4");

        Assert.True(code == 0, error);
        Assert.Contains("written to", output, StringComparison.Ordinal);
        var gramNames = Checkpoint.ReadLayout(_dir.File(Path.Combine("stats", "gram.safetensors"))).Specs.Select(s => s.Name).ToList();
        Assert.Contains("bert.encoder.layer.0.intermediate.dense.weight", gramNames);
        Assert.Contains("bert.pooler.dense.weight", Checkpoint.ReadLayout(_dir.File(Path.Combine("stats", "fisher.safetensors"))).Specs.Select(s => s.Name));
    }

    [Fact]
    public void Zoo_build_finds_recipes_in_the_registry_and_refuses_kinds_without_one()
    {
        var (code, _, error) = CliRunner.Run("zoo", "build", "--recipe", "text-classification", "--out", _dir.File("zoo"));
        Assert.Equal(2, code);
        Assert.Equal("error: task kind 'text-classification' has no zoo recipe: the recipes are mnist-noniid, sentiment-minilm\n", error.Replace("\r", "", StringComparison.Ordinal));

        var other = TaskFiles.TaskFile(_dir, "kind = image-classification\ndev { dir = x }");
        (code, _, error) = CliRunner.Run("zoo", "build", "--recipe", "mnist-noniid", "--task-config", other, "--out", _dir.File("zoo"));
        Assert.Equal(2, code);
        Assert.Equal($"error: {other}: is a 'image-classification' task, not a 'mnist-noniid' one\n", error.Replace("\r", "", StringComparison.Ordinal));
        Assert.False(Directory.Exists(_dir.File("zoo")));
    }

    [Fact]
    public void Bench_eval_needs_a_zoo_for_a_task_without_a_recipe()
    {
        var task = TaskFiles.TaskFile(_dir, "kind = image-classification\ndev { dir = x }");
        var (code, _, error) = CliRunner.Run("bench", "eval", "--task", task, "--zoo", _dir.File("nozoo"));
        Assert.Equal(2, code);
        Assert.Equal($"error: {_dir.File("nozoo")}: no zoo here (no manifest.json)\n", error.Replace("\r", "", StringComparison.Ordinal));

        (code, _, error) = CliRunner.Run("bench", "eval", "--task", task);
        Assert.Equal(2, code);
        Assert.EndsWith("no zoo here (no manifest.json); a 'image-classification' task has no zoo recipe: give --zoo DIR\n", error.Replace("\r", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
