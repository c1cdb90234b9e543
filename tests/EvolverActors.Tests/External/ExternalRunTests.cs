using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Evaluation;
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

    private string Init(IReadOnlyList<string> models, string command, string mode, int evaluations, string devices = "cpu", string kind = "worker")
    {
        var config = _dir.File($"{mode}.conf");
        var evaluator = kind == "http" ? new[] { "--evaluator-url", command } : ["--evaluator-command", command, "--evaluator-kind", kind];
        var (code, output, error) = CliRunner.Run(["init", "--models", .. models, .. evaluator, "--mode", mode,
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

    [Fact]
    public void A_command_evaluator_gets_a_process_per_candidate_and_the_run_completes()
    {
        var models = ExternalFixtures.Population(_dir, count: 3);
        var script = _dir.File("score.py");
        File.WriteAllText(script, """
            import json, os, sys
            request = json.loads(sys.stdin.readline())
            assert request["checkpoint"] == sys.argv[1] and os.path.exists(os.path.join(sys.argv[1], "model.safetensors"))
            print("some log line first")
            print(json.dumps({"score": (os.getpid() % 97) / 97, "split": 1 if sys.argv[2] == "dev" else 0}))
            """);
        var status = Run(Init(models, $"{ExternalFixtures.Python} {script} {{checkpoint}} {{split}}", "individual", 6, kind: "command"), "command");
        Assert.Equal("finished", status.State);
        Assert.Equal(6, status.Evaluations);
    }

    [Fact]
    public void An_http_evaluator_gets_each_request_by_post_and_the_run_completes()
    {
        var models = ExternalFixtures.Population(_dir, count: 3);
        var (started, port) = LoopbackHttpListener.Start();
        using var listener = started;
        var requests = 0;
        using var stop = new CancellationTokenSource();
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var context = await listener.GetContextAsync();
                using var reader = new StreamReader(context.Request.InputStream);
                using var request = JsonDocument.Parse(await reader.ReadToEndAsync());
                var checkpoint = request.RootElement.GetProperty("checkpoint").GetString()!;
                var found = File.Exists(Path.Combine(checkpoint, "model.safetensors")) ? 1.0 : 0.0;
                var body = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { score = found * (Interlocked.Increment(ref requests) % 10) / 10.0 }));
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }, TestContext.Current.CancellationToken);
        var status = Run(Init(models, $"http://127.0.0.1:{port}/score", "merged", 7, kind: "http"), "http");
        stop.Cancel();
        Assert.Equal("finished", status.State);
        Assert.Equal(7, status.Evaluations);
        Assert.True(requests >= 7, $"the endpoint got {requests} requests");
    }
}
