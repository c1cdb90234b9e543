using System.Diagnostics;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>
/// A worker on "another host" (docs/architecture.md §4): its own runs root (empty) and no starting checkpoints, so it
/// has nothing of the coordinator's run directory; it joins with --join, gets run.json, the members and the population
/// snapshots from the coordinator's file server, and writes only into its own node directory.
/// </summary>
public sealed partial class WorkerNodeTests
{
    [Fact]
    public async Task A_worker_without_the_run_directory_joins_with_join_and_fetch_from_scores_and_writes_nothing_into_it()
    {
        const int budget = 3000;
        using var cluster = new LoopbackCluster(budget);
        var secret = Path.Combine(cluster.Root, "secret.p12");
        Assert.Equal(0, CliRunner.Run("secret", "--out", secret).Code);
        // Snapshots every 5 acceptances: the worker joins after two, so members it needs come from them.
        var extra = $"cluster.secret = \"{secret}\"\npersistence.population-snapshot-every = 5";
        cluster.WriteCoordinatorConfig(extra);
        var elsewhere = Path.Combine(cluster.Root, "not-on-this-host");
        var models = string.Join(", ", Enumerable.Range(0, LoopbackCluster.Members).Select(k => $"\"{Path.Combine(elsewhere, $"model-{k}")}\""));
        var workerConfig = cluster.WriteWorkerConfig("remote.conf", extra);
        File.WriteAllText(workerConfig, File.ReadAllText(workerConfig).Replace($"population.zoo = \"{cluster.Zoo}\"", $"population.models = [{models}]", StringComparison.Ordinal));
        var emptyRuns = Directory.CreateDirectory(Path.Combine(cluster.Root, "remote-runs")).FullName;
        var cache = Path.Combine(cluster.Root, "remote-cache");

        var coordinator = cluster.StartCoordinator();
        var (join, files) = AwaitCoordinatorWithSnapshots(cluster, coordinator, snapshots: 2);
        var token = File.ReadAllText(Path.Combine(cluster.Run.Root, "files.token")).Trim();
        var worker = cluster.StartNodeWith(new Dictionary<string, string> { ["EVOLVER_FILES_TOKEN"] = token },
            "--config", workerConfig, "--run-id", cluster.RunId, "--runs", emptyRuns, "--name", "remote", "--join", join, "--fetch-from", files, "--cache", cache);

        await LoopbackCluster.ExitsWith(0, coordinator, TimeSpan.FromMinutes(4));
        await LoopbackCluster.ExitsWith(0, worker, TimeSpan.FromMinutes(1));
        var said = cluster.Output(worker);
        Assert.True(cluster.ScoredBy(worker) > 0, $"the worker scored nothing: {said}");
        var ledger = await JournalAccess.ReadLedgerAsync(cluster.Run);
        Assert.True(ledger.State.Finished);
        Assert.Equal(budget, ledger.State.Evaluations);
        Assert.Equal(0, ledger.State.Failed);
        Assert.Equal(0, CliRunner.Run("lineage", "--run", cluster.RunId, "--runs", cluster.Fixture.Runs).Code);

        // Nothing of the worker's is in the run directory or its own runs root; run.json and snapshots are in its node directory.
        Assert.Empty(Directory.EnumerateFiles(cluster.Run.Root, "evaluators-*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFileSystemEntries(emptyRuns));
        var node = Path.Combine(cache, "nodes", cluster.RunId);
        Assert.Equal(File.ReadAllText(cluster.Run.FingerprintPath), File.ReadAllText(Path.Combine(node, "run.json")));
        Assert.Matches(@"\(([1-9]\d*) population snapshot files fetched\)", said);
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(node, "snapshots"), "*.safetensors"));
        Assert.False(Directory.Exists(elsewhere));
        Assert.DoesNotContain("refused", said, StringComparison.Ordinal);
    }

    [Fact]
    public void A_worker_without_the_run_directory_and_without_a_configured_secret_is_told_what_to_set()
    {
        using var cluster = new LoopbackCluster(budget: 20);
        var emptyRuns = Directory.CreateDirectory(Path.Combine(cluster.Root, "remote-runs")).FullName;

        var (code, _, error) = CliRunner.Run("node", "--config", cluster.WorkerConfig, "--run-id", cluster.RunId, "--runs", emptyRuns,
            "--join", "127.0.0.1:9", "--fetch-from", "http://127.0.0.1:9");

        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("cluster.secret is not set", error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(emptyRuns));
    }

    /// <summary>The coordinator's HOST:PORT and file server URL once it has written <paramref name="snapshots"/> population snapshots.</summary>
    internal static (string Join, string Files) AwaitCoordinatorWithSnapshots(LoopbackCluster cluster, Process coordinator, int snapshots)
    {
        var wait = Stopwatch.StartNew();
        var directory = Path.Combine(cluster.Run.Root, RunWeights.SnapshotsDirectoryName);
        while (true)
        {
            Assert.True(wait.Elapsed < TimeSpan.FromMinutes(2) && !coordinator.HasExited, $"no file server or snapshots: {cluster.Output(coordinator)}");
            if (cluster.Run.RunningCoordinator() is { Files: { } files } running && Directory.Exists(directory)
                && Directory.EnumerateFiles(directory, "snapshot-*.json").Count() >= snapshots)
            {
                var address = new Uri(running.Address.Replace("akka.ssl.tcp", "tcp", StringComparison.Ordinal));
                return ($"{address.Host}:{address.Port}", files);
            }
            Thread.Sleep(50);
        }
    }
}
