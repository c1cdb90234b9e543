using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.External;

/// <summary>
/// A lab's setup end to end through the CLI, as a new user runs it: their own bf16 checkpoints (one sharded) given
/// as a list, `evolver init` writing the config for their Python worker (the PyTorch example on IDX data), `evolver
/// score` checking it, `evolver run` evolving it in individual and merged mode.
/// </summary>
public sealed class ExternalRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Init(IReadOnlyList<string> models, string command, string mode, int evaluations, string devices = "cpu")
    {
        var config = _dir.File($"{mode}.conf");
        var (code, output, error) = CliRunner.Run(["init", "--models", .. models, "--evaluator-command", command, "--mode", mode,
            "--max-evaluations", evaluations.ToString(System.Globalization.CultureInfo.InvariantCulture), "--devices", devices, "--scratch", _dir.File("scratch"), "--out", config]);
        Assert.True(code == 0, $"init failed: {error}");
        Assert.Contains("evolver run --config", output, StringComparison.Ordinal);
        return config;
    }

    private RunStatusView Run(string config, string runId)
    {
        var runs = _dir.File("runs");
        var (code, _, error) = CliRunner.Run("run", "--config", config, "--run-id", runId, "--runs", runs);
        Assert.True(code == 0, $"run exited {code}: {error}");
        return RunDirectory.Open(runs, runId).ReadStatus()!;
    }

    private static string ExampleWorker(string data) => $"{ExternalFixtures.Python} {ExternalFixtures.ExampleWorker} --data {data}";

    [Theory]
    [InlineData("individual", 10)]
    [InlineData("merged", 8)]
    public void A_list_of_checkpoints_evolves_with_the_python_worker_from_a_config_init_wrote(string mode, int evaluations)
    {
        var models = ExternalFixtures.Population(_dir);
        var config = Init(models, ExampleWorker(ExternalFixtures.IdxData(_dir)), mode, evaluations, devices: "cpu,cpu");
        var status = Run(config, mode);
        Assert.Equal("finished", status.State);
        Assert.Equal(evaluations, status.Evaluations);
        Assert.InRange(status.BestDev, 0, 1);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.File("scratch"))); // every candidate was deleted after scoring
    }

    [Fact]
    public void Score_reports_dev_test_and_ood_for_each_checkpoint_as_json()
    {
        var models = ExternalFixtures.Population(_dir, count: 2);
        var config = Init(models, ExampleWorker(ExternalFixtures.IdxData(_dir, examples: 32)), "individual", 4);
        var (code, output, error) = CliRunner.Run("score", "--config", config, "--json");
        Assert.True(code == 0, error);
        var lines = output.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            using var reply = JsonDocument.Parse(line);
            var scores = reply.RootElement.GetProperty("scores");
            Assert.Equal(["dev", "test", "ood"], scores.EnumerateObject().Select(p => p.Name));
            Assert.All(scores.EnumerateObject(), p => Assert.InRange(p.Value.GetDouble(), 0, 1));
        }
    }

    [Fact]
    public void A_worker_that_crashes_on_its_first_request_is_restarted_and_the_run_completes()
    {
        var models = ExternalFixtures.Population(_dir, count: 3);
        var worker = ExternalFixtures.ScriptWorker(_dir, "crash-first", """None if n == 1 else json.dumps({"id": request["id"], "score": (n * 7919 % 100) / 100})""");
        var status = Run(Init(models, $"{ExternalFixtures.Python} {worker}", "individual", 9), "crash-first");
        Assert.Equal("finished", status.State);
        Assert.Equal(9, status.Evaluations);
    }

    [Fact]
    public void A_worker_that_answers_garbage_now_and_then_never_aborts_the_run()
    {
        var models = ExternalFixtures.Population(_dir, count: 3);
        var worker = ExternalFixtures.ScriptWorker(_dir, "garbage", """'{oops' if n % 4 == 0 else json.dumps({"id": request["id"], "score": (n * 7919 % 100) / 100})""");
        var status = Run(Init(models, $"{ExternalFixtures.Python} {worker}", "merged", 10), "garbage");
        Assert.Equal("finished", status.State);
        Assert.Equal(10, status.Evaluations);
    }
}
