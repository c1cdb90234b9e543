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
        Assert.True(error.Contains(expected, StringComparison.Ordinal), error);
        Assert.False(Directory.Exists(Path.Combine(runs, "run")), "a refused run must leave no run directory behind");
    }

    [Fact]
    public void Unknown_operator_is_refused() => AssertRefused(Config(Zoo(), "breeding.operator = de-rand-9"), "unknown operator 'de-rand-9'");

    [Fact]
    public void Out_of_range_crossover_rate_is_refused() => AssertRefused(Config(Zoo(), "breeding.cr = 1.5"), "evolver.run.breeding.cr = 1.5 is out of range [0, 1]");

    [Fact]
    public void Merge_method_without_incremental_update_is_refused() =>
        AssertRefused(Config(Zoo(), "fitness { mode = merged, merge-method = ties }"), "merge-method = 'ties' has no incremental update");

    [Fact]
    public void A_memory_budget_smaller_than_a_model_is_refused() =>
        AssertRefused(Config(Zoo(), "memory.max-resident = 1000"), "evolver.run.memory.max-resident = 1.0 KB is too small for models of 4.0 KB: it must hold one offspring, 4.0 KB");

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
    public void Broken_hocon_is_refused() => AssertRefused(WriteText("evolver.run { task = \"simulated\", budget = { max-evaluations = 5 }"), "never closed");

    /// <summary>Akka's parser loops forever on an unset optional substitution; the config reader refuses every substitution first.</summary>
    [Theory]
    [InlineData("evolver.run { task = ${nope.missing} }")]
    [InlineData("evolver.run {\n  task = simulated\n  cluster.public-hostname = ${?EVOLVER_UNSET_VARIABLE_FOR_TEST}\n}")]
    public void Substitutions_are_refused_in_one_line_instead_of_hanging(string text) =>
        AssertRefused(WriteText(text), "substitutions (${...}) are not supported");

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

    [Theory]
    [InlineData("fitnes { mode = individual }", "unknown key 'evolver.run.fitnes' (did you mean 'evolver.run.fitness'?)")]
    [InlineData("budget.max-evaluation = 15", "unknown key 'evolver.run.budget.max-evaluation' (did you mean 'evolver.run.budget.max-evaluations'?)")]
    [InlineData("evaluators.command = [python3, x.py]", "unknown key 'evolver.run.evaluators.command'")]
    [InlineData("breeding.f = half", "evolver.run.breeding.f = 'half' is not a finite number")]
    [InlineData("breeding.j-rand = maybe", "evolver.run.breeding.j-rand = 'maybe' is not on/off")]
    [InlineData("budget.max-wall-time = -5m", "evolver.run.budget.max-wall-time = -5m must be positive")]
    [InlineData("budget.max-evaluations = 99999999999999", "evolver.run.budget.max-evaluations = 99999999999999 is out of range")]
    [InlineData("breeding.queue = 20000", "evolver.run.breeding.queue = 20000 is out of range [1, 256]")]
    [InlineData("evaluator { kind = worker }", "evolver.run.evaluator.command is required with kind = worker")]
    [InlineData("evaluator { kind = grpc }", "evolver.run.evaluator.kind = 'grpc' is unknown: use builtin | worker | command | http")]
    [InlineData("cluster.hostnam = 10.0.0.5", "unknown key 'evolver.run.cluster.hostnam' (did you mean 'evolver.run.cluster.hostname'?)")]
    [InlineData("cluster.hostname = 0.0.0.0", "evolver.run.cluster.hostname = '0.0.0.0' binds every interface: set cluster.public-hostname")]
    [InlineData("cluster.port = 70000", "evolver.run.cluster.port = 70000 is out of range [0, 65535]")]
    [InlineData("cluster.secret = \"/nonexistent/cluster.p12\"", "/nonexistent/cluster.p12: no such cluster secret")]
    public void Wrong_keys_and_values_are_refused_naming_the_key(string extra, string expected) => AssertRefused(Config(Zoo(), extra), expected);

    [Fact]
    public void Unknown_devices_are_refused() =>
        AssertRefused(WriteText($$"""evolver.run { task = simulated, population.zoo = "{{Zoo()}}", evaluators.devices = [tpu] }"""), "has 'tpu', which is not a device");

    [Fact]
    public void A_thousand_evaluators_are_refused() =>
        AssertRefused(WriteText($$"""evolver.run { task = simulated, population.zoo = "{{Zoo()}}", evaluators.devices = [{{string.Join(",", Enumerable.Repeat("cpu", 1000))}}] }"""),
            "lists 1000 devices: give 1 to 64");

    [Fact]
    public void A_worker_program_that_does_not_exist_is_refused_before_anything_starts() =>
        AssertRefused(WriteText($$"""evolver.run { population.zoo = "{{Zoo()}}", evaluator { kind = worker, command = ["/nonexistent/python", "w.py"] } }"""),
            "evolver.run.evaluator.command: program '/nonexistent/python' is not a file");

    [Fact]
    public void Unclosed_braces_are_refused() =>
        AssertRefused(WriteText($$"""evolver.run { task = simulated, population { zoo = "{{Zoo()}}" """), "'{' is never closed");

    [Fact]
    public void Cuda_without_a_cuda_build_is_refused_for_the_builtin_evaluator() =>
        AssertRefused(WriteText($$"""evolver.run { task = mnist-noniid, population.zoo = "{{Zoo()}}", evaluators.devices = ["cuda:0"] }"""),
            "CUDA is not available in this build");

    private string WriteText(string text)
    {
        var path = _dir.File("broken.conf");
        File.WriteAllText(path, text);
        return path;
    }
}
