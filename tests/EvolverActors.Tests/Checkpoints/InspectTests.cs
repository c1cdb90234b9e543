using System.Text.Json;
using EvolverActors.Tensors.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

public sealed class InspectTests : IDisposable
{
    private static readonly float[] OneToFour = [1f, 2f, 3f, 4f];
    private static readonly long[] Ids = [0, 1];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Stats_of_one_to_four_use_the_sample_std()
    {
        using var scope = NewDisposeScope();
        var stats = CheckpointInspector.Describe("t", tensor(OneToFour));

        Assert.Equal(1, stats.Min);
        Assert.Equal(4, stats.Max);
        Assert.Equal(2.5, stats.Mean);
        Assert.Equal(Math.Sqrt(5.0 / 3.0), stats.Std, 12); // sum of squared deviations 5, over n - 1 = 3
        Assert.Equal(4, stats.Parameters);
        Assert.Equal(16, stats.Bytes);
    }

    [Fact]
    public void Stats_combine_exactly_across_chunks()
    {
        using var scope = NewDisposeScope();
        const long n = 5_000_001; // more than one 4M-element chunk
        var stats = CheckpointInspector.Describe("big", arange(n, ScalarType.Float32).reshape(1, n));

        Assert.Equal(0, stats.Min);
        Assert.Equal(n - 1, stats.Max);
        Assert.Equal((n - 1) / 2.0, stats.Mean, 6);
        Assert.Equal(Math.Sqrt(n * (n + 1) / 12.0), stats.Std, 6); // sample std of 0..n-1
    }

    [Fact]
    public void Empty_and_single_element_tensors_give_nan_rather_than_errors()
    {
        using var scope = NewDisposeScope();
        var empty = CheckpointInspector.Describe("e", zeros(0, 3));
        var single = CheckpointInspector.Describe("s", tensor(7.0));

        Assert.True(double.IsNaN(empty.Mean) && double.IsNaN(empty.Min) && double.IsNaN(empty.Std));
        Assert.Equal(7, single.Mean);
        Assert.True(double.IsNaN(single.Std));
    }

    [Fact]
    public void A_checkpoint_summary_has_per_tensor_stats_and_totals()
    {
        var path = GoodFile();

        var summary = CheckpointInspector.Inspect(path);

        Assert.Equal(["w", "ids"], summary.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal).Reverse());
        Assert.Equal(6, summary.Parameters);
        Assert.Equal((4 * 4) + (2 * 8), summary.Bytes);
        Assert.Equal(new Dictionary<string, int> { ["F32"] = 1, ["I64"] = 1 }, summary.DTypeCounts);
        Assert.Equal(2.5, summary.Tensors.Single(t => t.Name == "w").Mean);
    }

    [Fact]
    public void The_inspect_command_prints_an_aligned_table_and_exits_0()
    {
        var (code, output, error) = Run(["inspect", GoodFile()]);

        Assert.Equal(0, code);
        Assert.Empty(error);
        var lines = output.TrimEnd().Split('\n');
        Assert.StartsWith("name", lines[0]);
        Assert.Contains("std", lines[0]);
        var w = Assert.Single(lines, l => l.StartsWith("w ", StringComparison.Ordinal));
        Assert.Contains("[2, 2]", w);
        Assert.Contains("2.5", w);
        Assert.Equal(lines[0].IndexOf("dtype", StringComparison.Ordinal), w.IndexOf("F32", StringComparison.Ordinal));
        Assert.Equal("total: 2 tensors, 6 parameters, 32 bytes (F32 x1, I64 x1)", lines[^1]);
    }

    [Fact]
    public void The_inspect_command_prints_json_on_request()
    {
        var (code, output, _) = Run(["inspect", GoodFile(), "--json"]);

        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var w = doc.RootElement.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "w");
        Assert.Equal("F32", w.GetProperty("dtype").GetString());
        Assert.Equal(4, w.GetProperty("params").GetInt64());
        Assert.Equal(4.0, w.GetProperty("max").GetDouble());
        Assert.Equal(6, doc.RootElement.GetProperty("total").GetProperty("parameters").GetInt64());
        Assert.Equal(1, doc.RootElement.GetProperty("total").GetProperty("dtypes").GetProperty("I64").GetInt32());
        Assert.Equal("pt", doc.RootElement.GetProperty("metadata").GetProperty("format").GetString());
    }

    [Fact]
    public void The_inspect_command_reports_a_truncated_file_on_stderr_with_exit_2()
    {
        var good = File.ReadAllBytes(GoodFile());
        var path = _dir.Write("cut.safetensors", good[..^3]);

        var (code, output, error) = Run(["inspect", path]);

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.StartsWith($"error: {path}: file is truncated", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void The_inspect_command_reports_a_missing_path_with_exit_2()
    {
        var (code, _, error) = Run(["inspect", _dir.File("nothing-here")]);

        Assert.Equal(2, code);
        Assert.Contains("no such file", error);
    }

    private string GoodFile()
    {
        using var scope = NewDisposeScope();
        var path = _dir.File("good.safetensors");
        SafetensorsWriter.Write(path,
            [("w", tensor(OneToFour).reshape(2, 2)), ("ids", tensor(Ids))],
            new Dictionary<string, string> { ["format"] = "pt" });
        return path;
    }

    private static (int Code, string Output, string Error) Run(string[] args) => CliRunner.Run(args);
}
