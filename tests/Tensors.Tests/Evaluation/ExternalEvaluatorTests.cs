using System.Net;
using System.Text;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Evaluation;

/// <summary>The external evaluator contract, with scripts and an endpoint that misbehave.</summary>
public sealed class ExternalEvaluatorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CommandEvaluator Script(string body, double timeoutSeconds = 10)
    {
        var path = _dir.Write("evaluator.sh", Encoding.UTF8.GetBytes("#!/bin/sh\n" + body + "\n"));
        // Run through sh so the test does not depend on the temp directory allowing execution.
        return new CommandEvaluator("my-harness", "/bin/sh", [path, "{checkpoint}"], TimeSpan.FromSeconds(timeoutSeconds));
    }

    [Fact]
    public async Task A_well_behaved_command_gets_the_checkpoint_and_returns_its_score()
    {
        var evaluator = Script("echo \"scoring $1\" >&2; echo 'progress...'; echo \"{\\\"score\\\": 0.75, \\\"loss\\\": 1.5, \\\"dir\\\": \\\"$1\\\"}\"");
        var result = await evaluator.ScoreAsync(new ScoreRequest("/tmp/candidate-7"), TestContext.Current.CancellationToken);
        Assert.Equal(0.75, result.Score);
        Assert.Equal(1.5, result.Metrics["loss"]);
    }

    [Theory]
    [InlineData("echo hello", "not a JSON object")]
    [InlineData("echo '{\"accuracy\": 0.5}'", "no number \"score\"")]
    [InlineData("echo '[1, 2]'", "not an object")]
    [InlineData("echo 'out of memory' >&2; exit 3", "exited with code 3: out of memory")]
    [InlineData("echo '{\"score\": 1e999}'", "not finite")]
    public async Task A_misbehaving_command_is_an_error_naming_the_evaluator(string body, string expected)
    {
        var e = await Assert.ThrowsAsync<EvaluatorException>(() => Script(body).ScoreAsync(new ScoreRequest("/tmp/x"), TestContext.Current.CancellationToken));
        Assert.StartsWith("evaluator 'my-harness': ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hanging_command_is_killed_at_its_timeout()
    {
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<EvaluatorException>(() => Script("sleep 30", timeoutSeconds: 0.5).ScoreAsync(new ScoreRequest("/tmp/x"), TestContext.Current.CancellationToken));
        Assert.Contains("timed out after 0.5 s", e.Message, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_missing_program_is_an_error_not_a_crash()
    {
        var evaluator = new CommandEvaluator("ghost", "/nonexistent/eval", [], TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<EvaluatorException>(() => evaluator.ScoreAsync(new ScoreRequest("/tmp/x"), TestContext.Current.CancellationToken));
        Assert.Contains("cannot start", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(200, "{\"score\": 0.25}", 0, null)]
    [InlineData(500, "boom", 0, "HTTP 500")]
    [InlineData(200, "not json", 0, "not a JSON object")]
    [InlineData(200, "{\"score\": 0.25}", 3000, "did not answer within 0.5 s")]
    public async Task Http_endpoint_replies_are_checked(int status, string body, int delayMs, string? expected)
    {
        var (started, port) = LoopbackHttpListener.Start();
        using var listener = started;
        var server = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            using var reader = new StreamReader(context.Request.InputStream);
            var request = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
            Assert.Contains("\"checkpoint\"", request, StringComparison.Ordinal);
            await Task.Delay(delayMs, TestContext.Current.CancellationToken);
            context.Response.StatusCode = status;
            var bytes = Encoding.UTF8.GetBytes(body);
            try
            {
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
            catch (HttpListenerException)
            {
                // the client gave up (timeout case)
            }
        }, TestContext.Current.CancellationToken);
        var evaluator = new HttpEvaluator("remote", new Uri($"http://127.0.0.1:{port}/score"), TimeSpan.FromSeconds(0.5));
        if (expected is null)
        {
            Assert.Equal(0.25, (await evaluator.ScoreAsync(new ScoreRequest("/tmp/x"), TestContext.Current.CancellationToken)).Score);
        }
        else
        {
            var e = await Assert.ThrowsAsync<EvaluatorException>(() => evaluator.ScoreAsync(new ScoreRequest("/tmp/x"), TestContext.Current.CancellationToken));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
        await server.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }
}
