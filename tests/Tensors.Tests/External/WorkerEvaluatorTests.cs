using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.External;

/// <summary>The worker protocol against real Python processes: order, restarts, garbage, timeouts, environment.</summary>
public sealed class WorkerEvaluatorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private WorkerEvaluator Worker(string name, string reply, double timeoutSeconds = 20, Dictionary<string, string>? environment = null) =>
        new(name, [ExternalFixtures.Python, ExternalFixtures.ScriptWorker(_dir, name, reply)], TimeSpan.FromSeconds(timeoutSeconds), environment);

    private static Task<ExternalScore> Score(WorkerEvaluator worker, string checkpoint = "/tmp/c", string split = "dev") =>
        worker.ScoreAsync(new ScoreRequest(checkpoint, split), TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_worker_answers_each_request_in_one_process_with_its_split()
    {
        using var worker = Worker("echo", """json.dumps({"id": request["id"], "score": n / 10, "split_is_test": 1 if request["split"] == "test" else 0})""");
        Assert.Equal(0.1, (await Score(worker)).Score, 12);
        var second = await Score(worker, split: "test");
        Assert.Equal(0.2, second.Score, 12);
        Assert.Equal(1, second.Metrics["split_is_test"]);
        Assert.Equal(1, worker.Starts);
    }

    [Fact]
    public async Task A_worker_that_crashes_is_named_and_restarted_on_the_next_request()
    {
        using var worker = Worker("crashy", """None if n == 1 else json.dumps({"id": request["id"], "score": 0.75})""");
        var e = await Assert.ThrowsAsync<EvaluatorException>(() => Score(worker));
        Assert.Contains("evaluator 'crashy': worker exited with code 3: crashing on purpose at request 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(0.75, (await Score(worker)).Score, 12);
        Assert.Equal(2, worker.Starts);
    }

    [Theory]
    [InlineData("\"not json at all\"", "reply is not a JSON object")]
    [InlineData("json.dumps([1, 2])", "reply is JSON but not an object")]
    [InlineData("json.dumps({\"id\": request[\"id\"], \"accuracy\": 0.5})", "reply has no number \"score\"")]
    [InlineData("'{\"id\": %d, \"score\": NaN}' % request[\"id\"]", "reply is not a JSON object")]
    [InlineData("json.dumps({\"id\": request[\"id\"] + 1, \"score\": 0.5})", "does not match request")]
    [InlineData("json.dumps({\"id\": request[\"id\"], \"error\": \"CUDA out of memory\"})", "reported an error: CUDA out of memory")]
    public async Task A_reply_that_is_not_one_object_with_a_finite_score_is_an_error_naming_the_evaluator(string reply, string expected)
    {
        using var worker = Worker("liar", $"{reply} if n == 1 else json.dumps({{\"id\": request[\"id\"], \"score\": 0.25}})");
        var e = await Assert.ThrowsAsync<EvaluatorException>(() => Score(worker));
        Assert.StartsWith("evaluator 'liar': ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        // The confused worker is replaced, so the next request gets its own answer.
        Assert.Equal(0.25, (await Score(worker)).Score, 12);
    }

    [Fact]
    public async Task A_worker_over_its_timeout_is_killed_and_replaced()
    {
        using var worker = Worker("slow", """(__import__("time").sleep(60) or "{}") if n == 1 else json.dumps({"id": request["id"], "score": 1.0})""", timeoutSeconds: 1);
        var e = await Assert.ThrowsAsync<EvaluatorException>(() => Score(worker));
        Assert.Contains("no reply within 1 s", e.Message, StringComparison.Ordinal);
        Assert.Equal(1.0, (await Score(worker)).Score, 12);
        Assert.Equal(2, worker.Starts);
    }

    [Fact]
    public async Task The_device_reaches_the_worker_in_its_environment()
    {
        using var worker = Worker("env", """json.dumps({"id": request["id"], "score": 1 if os.environ["EVOLVER_DEVICE"] == "cuda" and os.environ["CUDA_VISIBLE_DEVICES"] == "1" else 0})""",
            environment: new() { ["EVOLVER_DEVICE"] = "cuda", ["CUDA_VISIBLE_DEVICES"] = "1" });
        Assert.Equal(1, (await Score(worker)).Score);
    }

    [Fact]
    public async Task A_missing_program_is_a_one_line_error()
    {
        using var worker = new WorkerEvaluator("ghost", ["/nonexistent/python"], TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<EvaluatorException>(() => Score(worker));
        Assert.Contains("cannot start worker '/nonexistent/python'", e.Message, StringComparison.Ordinal);
    }
}
