using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EvolverActors.Actors.Hosting;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>
/// Joining through Akka.Management cluster bootstrap with config discovery (docs/architecture.md §4, "Joining"): no
/// --join, no cluster.json; the coordinator forms the cluster even when a worker has the lowest contact point.
/// </summary>
public sealed class ClusterBootstrapTests
{
    private const int Budget = 1500;

    [Fact]
    public async Task A_coordinator_and_two_workers_find_each_other_through_config_discovery_and_the_workers_score()
    {
        using var cluster = new LoopbackCluster(Budget);
        var secret = Path.Combine(cluster.Root, "secret.p12");
        Assert.Equal(0, CliRunner.Run("secret", "--out", secret).Code);
        // The coordinator's endpoint gets the highest port: Akka's own rule (the lowest contact point forms) would pick a worker.
        var ports = FreePorts(3);
        var (w1Port, w2Port, coordinatorPort) = (ports[0], ports[1], ports[2]);
        var contactPoints = string.Join(", ", ports.Select(p => $"\"127.0.0.1:{p}\""));
        string Extra(int port) => $"cluster.secret = \"{secret}\"\n"
            + $"cluster.bootstrap {{ discovery = config, contact-points = [{contactPoints}], management-port = {port}, stable-margin = 3s }}";
        cluster.WriteCoordinatorConfig(Extra(coordinatorPort));
        var w1Config = cluster.WriteWorkerConfig("w1.conf", Extra(w1Port));
        var w2Config = cluster.WriteWorkerConfig("w2.conf", Extra(w2Port));

        var coordinator = cluster.StartCoordinator();
        // The workers start once the run exists, before the coordinator has formed the cluster or written cluster.json.
        var wait = Stopwatch.StartNew();
        while (cluster.Run.ReadFingerprint() is null)
        {
            Assert.True(wait.Elapsed < TimeSpan.FromMinutes(2) && !coordinator.HasExited, $"the run never started: {cluster.Output(coordinator)}");
            Thread.Sleep(50);
        }
        Assert.False(File.Exists(cluster.Run.ClusterPath), "cluster.json before the stable margin");
        var w1 = cluster.StartNodeWith(w1Config, "--name", "w1");
        var w2 = cluster.StartNodeWith(w2Config, "--name", "w2");
        await TheEndpointAnswersOnlyUnderTheSecretsRouteAsync(coordinatorPort, secret, coordinator, cluster);

        await coordinator.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(4), TestContext.Current.CancellationToken);
        Assert.True(coordinator.ExitCode == 0, $"the coordinator exited {coordinator.ExitCode}: {cluster.Output(coordinator)}\nw1: {cluster.Output(w1)}\nw2: {cluster.Output(w2)}");
        await LoopbackCluster.ExitsWith(0, w1, TimeSpan.FromMinutes(1));
        await LoopbackCluster.ExitsWith(0, w2, TimeSpan.FromMinutes(1));
        var ledger = await JournalAccess.ReadLedgerAsync(cluster.Run);
        Assert.True(ledger.State.Finished);
        Assert.Equal(Budget, ledger.State.Evaluations);
        foreach (var worker in new[] { w1, w2 })
        {
            var said = cluster.Output(worker);
            Assert.Contains($"joining the cluster through bootstrap (config discovery: contact points 127.0.0.1:{w1Port}", said, StringComparison.Ordinal);
            Assert.True(cluster.ScoredBy(worker) > 0, $"a worker scored nothing: {said}");
            Assert.False(said.Contains("   at ", StringComparison.Ordinal), said);
        }
        Assert.False(cluster.Output(coordinator).Contains("   at ", StringComparison.Ordinal), cluster.Output(coordinator));
    }

    [Fact]
    public void A_misspelled_bootstrap_key_and_a_coordinator_without_a_fixed_management_port_are_one_line_and_exit_2()
    {
        using var cluster = new LoopbackCluster(budget: 20);
        cluster.WriteCoordinatorConfig("cluster.bootstrap { discovery = config, contact-points = [\"127.0.0.1:8558\"], managment-port = 8558 }");
        var (code, _, error) = CliRunner.Run("run", "--config", cluster.CoordinatorConfig, "--runs", cluster.Fixture.Runs);
        Assert.Equal(2, code);
        Assert.Contains("unknown key 'evolver.run.cluster.bootstrap.managment-port' (did you mean 'evolver.run.cluster.bootstrap.management-port'?)", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));

        cluster.WriteCoordinatorConfig("cluster.bootstrap { discovery = config, contact-points = [\"127.0.0.1:8558\"] }");
        (code, _, error) = CliRunner.Run("run", "--config", cluster.CoordinatorConfig, "--runs", cluster.Fixture.Runs);
        Assert.Equal(2, code);
        Assert.Contains("evolver.run.cluster.bootstrap.management-port = 0: the coordinator's management endpoint is how the other nodes find the cluster", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(cluster.Run.Root) && Directory.EnumerateFileSystemEntries(cluster.Run.Root).Any(), "a refused config wrote into the run directory");
    }

    /// <summary>The seed-nodes route answers under the secret's route token; without it (Akka's plain route, a wrong token): 404.</summary>
    private static async Task TheEndpointAnswersOnlyUnderTheSecretsRouteAsync(int port, string secretPath, Process coordinator, LoopbackCluster cluster)
    {
        using var secret = ClusterSecret.Load(secretPath);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var cancel = TestContext.Current.CancellationToken;
        var wait = Stopwatch.StartNew();
        HttpResponseMessage? answer = null;
        while (answer is not { IsSuccessStatusCode: true })
        {
            Assert.True(wait.Elapsed < TimeSpan.FromMinutes(1) && !coordinator.HasExited, $"the bootstrap endpoint never answered: {answer?.StatusCode} {cluster.Output(coordinator)}");
            try
            {
                answer = await http.GetAsync(BootstrapEndpoint.RoutePath(secret.BootstrapRouteToken), cancel);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100, cancel); // not listening yet
            }
        }
        Assert.Contains("\"SelfNode\"", await answer.Content.ReadAsStringAsync(cancel), StringComparison.OrdinalIgnoreCase);
        foreach (var path in new[] { "/bootstrap/seed-nodes", "/" + new string('0', 32) + "bootstrap/seed-nodes", "/" + secret.BootstrapRouteToken, "/" })
        {
            using var refused = await http.GetAsync(path, cancel);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }
    }

    /// <summary>Ports free on loopback now, in increasing order (held together so that they differ).</summary>
    private static List<int> FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).Order()];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }
}
