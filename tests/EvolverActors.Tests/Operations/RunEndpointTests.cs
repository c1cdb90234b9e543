using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using EvolverActors.Tests.Cluster;
using Xunit;

namespace EvolverActors.Tests.Operations;

/// <summary>
/// A real `evolver run` process and its HTTP endpoint (docs/architecture.md §6): the control API refuses calls without
/// the run's token, pause stops the counting of evaluations until resume, /metrics (parsed by the Prometheus client's
/// own text-format parser) agrees with `evolver status`, the page in headless Chromium shows what status says, and
/// the CLI commands find the node through the run directory.
/// </summary>
public sealed class RunEndpointTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task A_run_is_watched_paused_scraped_steered_and_stopped_through_its_endpoint()
    {
        using var cluster = new LoopbackCluster(budget: 1_000_000, extra: "http.bind = \"127.0.0.1:0\"", runId: "ops");
        var coordinator = cluster.StartCoordinator();
        var running = cluster.Fixture.WaitForStatus("ops", s => s.Http is not null && s.Evaluations > 20, "serving", Patience, coordinator);
        var url = $"http://{running.Http}";
        var token = (await File.ReadAllTextAsync(Path.Combine(cluster.Run.Root, "control.token"))).Trim();
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(cluster.Run.Root, "control.token")));
        }

        // A few more seconds of progress, so that the page's chart (and the screenshot) has a history to draw.
        cluster.Fixture.WaitForStatus("ops", s => s.Evaluations > running.Evaluations + 15, "running on", Patience, coordinator);

        // Writes without the token, or with another, are refused and change nothing.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(url + "/api/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(url + "/api/pause", "not-the-token")).StatusCode);
        Assert.Equal("running", (await Status(url))["state"]!.GetValue<string>());

        // Paused: once the offspring handed out before are decided, no evaluation is counted.
        var paused = await Post(url + "/api/pause", token);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        await Task.Delay(1500);
        var before = cluster.Run.ReadStatus()!;
        await Task.Delay(2500);
        var still = cluster.Run.ReadStatus()!;
        Assert.Equal(("paused", before.Evaluations), (still.State, still.Evaluations));

        // /metrics agrees with status (both are written from the same ledger reading).
        var metrics = ParsePrometheus(await Http.GetStringAsync(url + "/metrics"));
        Assert.Equal(still.Evaluations, metrics[("evolver_evaluations_total", "mode=\"individual\"")]);
        Assert.Equal(still.Accepted, metrics.Where(m => m.Key.Name == "evolver_acceptances_total").Sum(m => m.Value));
        Assert.Equal(still.Rejected, metrics.Where(m => m.Key.Name == "evolver_rejections_total").Sum(m => m.Value));
        Assert.Equal(still.Version, metrics[("evolver_population_version", "mode=\"individual\"")]);
        Assert.Equal(LoopbackCluster.Members, metrics[("evolver_population_members", "mode=\"individual\"")]);
        Assert.Contains(metrics.Keys, k => k.Name == "evolver_evaluation_duration_seconds_count" && k.Labels.Contains("device=\"cpu\"", StringComparison.Ordinal));
        Assert.Contains(metrics.Keys, k => k.Name == "evolver_journal_write_duration_seconds_count");
        Assert.True(metrics[("evolver_process_memory_bytes", "")] > 0);
        Assert.DoesNotContain(metrics.Keys, k => k.Labels.Contains("o-", StringComparison.Ordinal)); // no offspring ids as labels

        // The page, in a real headless browser, shows what status says (the run is paused: nothing moves).
        var dom = Chromium.DumpDom(url + "/", Path.Combine(cluster.Root, "chromium"));
        Assert.Contains($"id=\"evaluations\">{Grouped(still.Evaluations)}<", dom, StringComparison.Ordinal);
        Assert.Contains("id=\"state\">paused<", dom, StringComparison.Ordinal);
        Assert.Contains($"id=\"version\">{Grouped(still.Version)}<", dom, StringComparison.Ordinal);
        Assert.Contains($"id=\"members\">{LoopbackCluster.Members}<", dom, StringComparison.Ordinal);
        Assert.Contains("evolver lineage --run ops", dom, StringComparison.Ordinal);
        var screenshot = Chromium.Screenshot(url + "/", Path.Combine(cluster.Root, "chromium"), "run-page.png");
        TestContext.Current.SendDiagnosticMessage($"screenshot of the run page: {screenshot}");
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot holds a rendered page");

        // The CLI finds the node through the run directory: budget, resume, then stop.
        Assert.Equal(0, Cli("budget", cluster, "--max-evaluations", (still.Evaluations + 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(still.Evaluations + 100_000, (await Status(url))["max_evaluations"]!.GetValue<long>());
        Assert.Equal(0, Cli("resume", cluster));
        cluster.Fixture.WaitForStatus("ops", s => s.State == "running" && s.Evaluations > still.Evaluations + 10, "resumed", Patience, coordinator);
        Assert.Equal(0, Cli("stop", cluster));
        await LoopbackCluster.ExitsWith(0, coordinator, Patience);
        Assert.Equal("stopped", cluster.Run.ReadStatus()!.State);
        Assert.Equal(2, Cli("pause", cluster)); // not running any more: one line, status 2
    }

    /// <summary>A number as the page writes it (en-US digit grouping).</summary>
    private static string Grouped(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<HttpResponseMessage> Post(string url, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await Http.SendAsync(request);
    }

    private static async Task<JsonNode> Status(string url) => JsonNode.Parse(await Http.GetStringAsync(url + "/api/status"))!;

    private static int Cli(string command, LoopbackCluster cluster, params string[] more) =>
        global::EvolverActors.Host.Commands.Cli.Run([command, "--run", cluster.RunId, "--runs", cluster.Fixture.Runs, .. more]);

    /// <summary>Every sample of a scrape, by name and label set, read by the Prometheus Python client's parser (Debian's python3-prometheus-client).</summary>
    private static Dictionary<(string Name, string Labels), double> ParsePrometheus(string text)
    {
        const string Script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    v = s.value
                    text = "NaN" if v != v else "Infinity" if v == float("inf") else "-Infinity" if v == float("-inf") else repr(float(v))
                    print(f"{s.name}\t{labels}\t{text}")
            """;
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Script);
        using var python = Process.Start(info)!;
        python.StandardInput.Write(text);
        python.StandardInput.Close();
        var output = python.StandardOutput.ReadToEnd();
        var error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, $"the Prometheus parser refused the scrape: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t'))
            .ToDictionary(p => (p[0], p[1]), p => double.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture));
    }
}
