using System.Text.Json;
using EvolverActors.Host.Commands;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Commands;

/// <summary><c>evolver merge</c> end to end on files, and every way its input can be wrong.</summary>
public sealed class MergeCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Model(string name, float scale, long[]? shape = null, ScalarType dtype = ScalarType.Float32)
    {
        var path = _dir.File(name + ".safetensors");
        using var scope = NewDisposeScope();
        SafetensorsWriter.Write(path,
        [
            ("encoder.weight", (arange(6, ScalarType.Float32) * scale).reshape(shape ?? [2, 3]).to_type(dtype)),
            ("classifier.weight", full(2, scale)),
        ]);
        return path;
    }

    [Fact]
    public void Average_merge_writes_a_checkpoint_and_a_manifest()
    {
        var a = Model("a", 1);
        var b = Model("b", 3);
        var output = _dir.File("merged");
        var (code, stdout, error) = CliRunner.Run("merge", "--method", "average", "--out", output, a, b);
        Assert.True(code == 0, error);
        Assert.Contains("merged 2 models", stdout, StringComparison.Ordinal);
        using var merged = Checkpoint.Load(output);
        Assert.Equal([0f, 2, 4, 6, 8, 10], merged["encoder.weight"].data<float>().ToArray()); // (x + 3x) / 2
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, MergeCommand.ManifestFileName)));
        Assert.Equal("average", manifest.RootElement.GetProperty("method").GetString());
        Assert.Equal(2, manifest.RootElement.GetProperty("models").GetArrayLength());
        Assert.Equal(8, manifest.RootElement.GetProperty("output").GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Task_arithmetic_uses_base_lambda_and_exclusion()
    {
        var baseModel = Model("base", 1);
        var a = Model("a", 2);
        var b = Model("b", 4);
        var output = _dir.File("merged");
        var (code, _, error) = CliRunner.Run("merge", "-m", "task-arithmetic", "--param", "lambda=0.5", "--base", baseModel,
            "--exclude", "^classifier", "--out", output, a, b);
        Assert.True(code == 0, error);
        using var merged = Checkpoint.Load(output);
        // base + 0.5·((2x − x) + (4x − x)) = x + 2x = 3x
        Assert.Equal([0f, 3, 6, 9, 12, 15], merged["encoder.weight"].data<float>().ToArray());
        Assert.Equal([2f, 2], merged["classifier.weight"].data<float>().ToArray()); // excluded: copied from model a
    }

    [Fact]
    public void Output_above_the_shard_size_is_sharded_with_an_index()
    {
        var output = _dir.File("merged");
        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--max-shard-size", "24B", "--out", output, Model("a", 1), Model("b", 2));
        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(output, Checkpoint.IndexFileName)));
        Assert.True(Directory.GetFiles(output, "model-*-of-*.safetensors").Length >= 2);
        using var merged = Checkpoint.Load(output);
        Assert.Equal(8, merged.ParameterCount);
    }

    /// <summary>A checkpoint directory with <paramref name="files"/> next to its weights (each holding its own name).</summary>
    private string ModelDirectory(string name, float scale, params string[] files)
    {
        var directory = _dir.File(name);
        using (var scope = NewDisposeScope())
        using (var weights = Tensors.Weights.WeightSet.Adopt(
        [
            ("encoder.weight", (arange(6, ScalarType.Float32) * scale).reshape(2, 3)),
            ("embeddings.weight", (arange(40, ScalarType.Float32) - scale).reshape(10, 4)),
            ("classifier.weight", full(2, scale)),
        ]))
        {
            Checkpoint.Save(directory, weights);
        }
        foreach (var file in files)
        {
            File.WriteAllText(Path.Combine(directory, file), $"{name}/{file}");
        }
        return directory;
    }

    [Fact]
    public void A_shard_size_below_the_largest_tensor_writes_one_tensor_per_shard_that_loads_back_as_the_merge()
    {
        var a = ModelDirectory("a", 1);
        var b = ModelDirectory("b", 3);
        var output = _dir.File("merged");

        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--max-shard-size", "100B", "--out", output, a, b);

        Assert.True(code == 0, error);
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, Checkpoint.IndexFileName)));
        // 24 + 160 + 8 bytes: the 160-byte embedding is over the limit and gets a shard of its own, as does each neighbour.
        Assert.Equal(192, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(["classifier.weight", "embeddings.weight", "encoder.weight"], map.Keys);
        Assert.Equal(3, map.Values.Distinct().Count());
        Assert.All(map.Values, shard => Assert.True(File.Exists(Path.Combine(output, shard!)), shard));
        Assert.False(File.Exists(Path.Combine(output, Checkpoint.SingleFileName)));

        using var merged = Checkpoint.Load(output);
        using var first = Checkpoint.Load(a);
        using var second = Checkpoint.Load(b);
        using var expected = new AverageMerge().Merge([first, second], MergeInputs.None);
        foreach (var (name, tensor) in expected.Entries())
        {
            Assert.True(tensor.bytes.SequenceEqual(merged[name].bytes), $"tensor '{name}' differs from the in-memory merge");
        }
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, MergeCommand.ManifestFileName)));
        Assert.Equal(4, manifest.RootElement.GetProperty("output").GetProperty("files").GetArrayLength());
    }

    [Fact]
    public void The_first_models_config_and_tokenizer_files_are_copied_and_nothing_else()
    {
        string[] companions = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"];
        var a = ModelDirectory("a", 1, [.. companions, "merge-manifest.json", "README.md", "training_args.bin"]);
        var b = ModelDirectory("b", 3, [.. companions, "merges.txt"]);
        var output = _dir.File("merged");

        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--out", output, a, b);

        Assert.True(code == 0, error);
        foreach (var file in companions)
        {
            Assert.Equal($"a/{file}", File.ReadAllText(Path.Combine(output, file)));
        }
        Assert.Equal(
            [.. companions.Append(MergeCommand.ManifestFileName).Append(Checkpoint.SingleFileName).Order(StringComparer.Ordinal)],
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, MergeCommand.ManifestFileName)));
        Assert.Equal(companions, manifest.RootElement.GetProperty("output").GetProperty("copied").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void A_missing_input_and_an_output_that_cannot_be_created_are_named_in_one_line()
    {
        var a = Model("a", 1);
        var missing = _dir.File("nowhere");
        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--out", _dir.File("merged"), a, missing);
        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: {missing}: no such file or directory", error.TrimEnd());

        var blocked = Path.Combine(a, "merged"); // under a file
        (code, _, error) = CliRunner.Run("merge", "-m", "average", "--out", blocked, a, Model("b", 2));
        Assert.Equal(Cli.UserError, code);
        Assert.StartsWith($"error: {blocked}: cannot create the checkpoint directory", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Output_dtype_converts_floating_tensors()
    {
        var output = _dir.File("merged");
        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--dtype", "bf16", "--out", output, Model("a", 1), Model("b", 2));
        Assert.True(code == 0, error);
        Assert.Equal(ScalarType.BFloat16, Checkpoint.ReadLayout(output).Specs[0].DType);
    }

    [Theory]
    [InlineData("shape")]
    [InlineData("dtype")]
    public void Mismatched_population_is_refused_with_the_first_mismatch(string what)
    {
        var a = Model("a", 1);
        var b = what == "shape" ? Model("b", 1, shape: [3, 2]) : Model("b", 1, dtype: ScalarType.Float16);
        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--out", _dir.File("merged"), a, b);
        Assert.Equal(Cli.UserError, code);
        Assert.Contains("encoder.weight", error, StringComparison.Ordinal);
        Assert.Contains(what, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.File("merged")));
    }

    [Fact]
    public void Truncated_model_is_named_in_a_one_line_error()
    {
        var a = Model("a", 1);
        var bytes = File.ReadAllBytes(Model("b", 1));
        var truncated = _dir.Write("truncated.safetensors", bytes[..^4]);
        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--out", _dir.File("merged"), a, truncated);
        Assert.Equal(Cli.UserError, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains("truncated.safetensors", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData(new[] { "-m", "slerp" }, "unknown merge method")]
    [InlineData(new[] { "-m", "ties", "--param", "density=1.5" }, "density")]
    [InlineData(new[] { "-m", "ties", "--param", "k=3" }, "no parameter 'k'")]
    [InlineData(new[] { "-m", "task-arithmetic" }, "base")]
    [InlineData(new[] { "-m", "average", "--exclude", "(" }, "--exclude")]
    [InlineData(new[] { "-m", "average", "--max-shard-size", "lots" }, "--max-shard-size")]
    [InlineData(new[] { "-m", "average", "--dtype", "f8" }, "dtype")]
    [InlineData(new[] { "-m", "fisher", "--fisher", "only-one.safetensors" }, "--fisher was given 1 times for 2 models")]
    public void Wrong_options_get_a_clear_error_and_exit_code_2(string[] options, string expected)
    {
        string[] args = ["merge", .. options, "--out", _dir.File("merged"), Model("a", 1), Model("b", 2)];
        var (code, _, error) = CliRunner.Run(args);
        Assert.Equal(Cli.UserError, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_builds_merges_and_breeds_a_small_population()
    {
        var (code, stdout, error) = CliRunner.Run("demo", "merges", "--dir", _dir.File("demo"), "--members", "3");
        Assert.True(code == 0, error);
        foreach (var method in new[] { "average", "task-arithmetic", "ties", "dare", "fisher", "regmean", "evolver offspring" })
        {
            Assert.Contains(method, stdout, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(Path.Combine(_dir.File("demo"), "merged", "regmean", MergeCommand.ManifestFileName)));
    }
}
