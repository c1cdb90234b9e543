using EvolverActors.Host.Bench;
using EvolverActors.Host.Commands;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Service;

/// <summary>`evolver run` on a broken config or population: one clear line, non-zero exit, nothing half-written.</summary>
public sealed class RunCommandErrorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Zoo() => SyntheticZoo.Write(_dir.File("zoo"), members: 3, parameters: 1000);

    private string Config(string zoo, string extra = "") =>
        SyntheticZoo.Config(_dir.File("run.conf"), zoo, "steady-state", evaluators: 1, evaluations: 10, "random", 0, extra);

    private void AssertRefused(string config, string expected)
    {
        var runs = _dir.File("runs");
        var (code, _, error) = CliRunner.Run("run", "--config", config, "--runs", runs);
        Assert.Equal(Cli.UserError, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(runs, "run")), "a refused run must leave no run directory behind");
    }

    [Fact]
    public void Unknown_operator_is_refused() => AssertRefused(Config(Zoo(), "breeding.operator = de-rand-9"), "unknown operator 'de-rand-9'");

    [Fact]
    public void Out_of_range_crossover_rate_is_refused() => AssertRefused(Config(Zoo(), "breeding.cr = 1.5"), "CR = 1.5");

    [Fact]
    public void Merge_method_without_incremental_update_is_refused() =>
        AssertRefused(Config(Zoo(), "fitness { mode = merged, merge-method = ties }"), "merge-method 'ties'");

    [Fact]
    public void Missing_zoo_is_refused() => AssertRefused(Config(_dir.File("nowhere")), "no zoo here");

    [Fact]
    public void Missing_config_is_refused()
    {
        var (code, _, error) = CliRunner.Run("run", "--config", _dir.File("absent.conf"), "--runs", _dir.File("runs"));
        Assert.Equal(Cli.UserError, code);
        Assert.Contains("no such run config", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Broken_hocon_is_refused() => AssertRefused(WriteText("evolver.run { task = ${nope.missing} }"), "not valid HOCON");

    [Fact]
    public void Member_with_other_shapes_is_refused_with_the_first_mismatch()
    {
        var zoo = Zoo();
        using (var scope = NewDisposeScope())
        {
            Checkpoint.Save(Path.Combine(zoo, "models", "model-2"), Tensors.Weights.WeightSet.Adopt([("layers.0.weight", zeros(10, 100))]));
        }
        AssertRefused(Config(zoo), "population mismatch");
    }

    [Fact]
    public void Missing_member_file_is_refused()
    {
        var zoo = Zoo();
        Directory.Delete(Path.Combine(zoo, "models", "model-1"), recursive: true);
        AssertRefused(Config(zoo), "model-1");
    }

    private string WriteText(string text)
    {
        var path = _dir.File("broken.conf");
        File.WriteAllText(path, text);
        return path;
    }
}
