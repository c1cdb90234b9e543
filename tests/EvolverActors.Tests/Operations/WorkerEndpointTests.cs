using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EvolverActors.Tests.Cluster;
using Xunit;

namespace EvolverActors.Tests.Operations;

/// <summary>
/// A worker node's own endpoint (docs/architecture.md §6): its page's status names its evaluators and the run's
/// progress, its /metrics has its evaluators' durations, and it takes no control call (those go to the coordinator).
/// </summary>
public sealed partial class WorkerEndpointTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task A_worker_serves_its_evaluators_page_and_metrics_and_refuses_control_calls()
    {
        using var cluster = new LoopbackCluster(budget: 1_000_000, extra: "http.bind = \"127.0.0.1:0\"", runId: "worker-page");
        var coordinator = cluster.StartCoordinator();
        var worker = cluster.StartWorker("w1");
        cluster.WaitForOutput(worker, "page and /metrics of its evaluators at http://", Patience);
        var url = "http://" + WorkerAddress().Match(cluster.Output(worker)).Groups[1].Value;
        cluster.Fixture.WaitForStatus("worker-page", s => s.Evaluations > 50, "scoring", Patience, coordinator);

        var wait = System.Diagnostics.Stopwatch.StartNew();
        JsonNode status;
        do
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
            status = JsonNode.Parse(await Http.GetStringAsync(url + "/api/status", TestContext.Current.CancellationToken))!;
        }
        while (status["evaluators"]!.AsArray().All(e => e!["scored"]!.GetValue<long>() == 0) && wait.Elapsed < Patience);
        var evaluators = status["evaluators"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(evaluators);
        Assert.All(evaluators, name => Assert.StartsWith("w1-evaluator-", name, StringComparison.Ordinal));
        Assert.True(status["evaluations"]!.GetValue<long>() > 0, "the run's progress, read from the steward");

        var metrics = await Http.GetStringAsync(url + "/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("evolver_evaluation_duration_seconds_count{device=\"cpu\"", metrics, StringComparison.Ordinal);

        using var pause = new HttpRequestMessage(HttpMethod.Post, url + "/api/pause");
        pause.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(cluster.Run.Root, "control.token"))).Trim());
        var refused = await Http.SendAsync(pause, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("control calls go to the coordinator's", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal("running", cluster.Run.ReadStatus()!.State);

        Assert.Equal(0, CliRunner.Run("stop", "--run", "worker-page", "--runs", cluster.Fixture.Runs).Code);
        await LoopbackCluster.ExitsWith(0, coordinator, Patience);
        await LoopbackCluster.ExitsWith(0, worker, Patience);
        Assert.DoesNotContain("   at ", cluster.Output(worker), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"page and /metrics of its evaluators at http://([^/\s]+)/")]
    private static partial Regex WorkerAddress();
}
