using System.Text.RegularExpressions;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>
/// Several nodes on loopback as separate `evolver` processes (docs/architecture.md §4): a coordinator (`evolver run`)
/// and worker nodes (`evolver node`) that join it through the run directory, score offspring they rebuild from recipes,
/// and leave when the run ends; a worker killed with -9 costs only its in-flight offspring.
/// </summary>
public sealed partial class WorkerNodeTests
{
    private const int Budget = 1500;

    [Fact]
    public async Task Two_workers_join_a_running_run_score_offspring_and_leave_when_it_finishes()
    {
        using var cluster = new LoopbackCluster(Budget);
        var coordinator = cluster.StartCoordinator();
        var w1 = cluster.StartWorker("w1");
        var w2 = cluster.StartWorker("w2");
        // No secret configured: the run made its own, readable by its owner only, which the workers took from the run directory.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cluster.Run.ClusterSecretPath));
        }

        await LoopbackCluster.ExitsWith(0, coordinator, TimeSpan.FromMinutes(4));
        await LoopbackCluster.ExitsWith(0, w1, TimeSpan.FromMinutes(1));
        await LoopbackCluster.ExitsWith(0, w2, TimeSpan.FromMinutes(1));

        var ledger = await JournalAccess.ReadLedgerAsync(cluster.Run);
        Assert.True(ledger.State.Finished);
        Assert.Equal(Budget, ledger.State.Evaluations);
        foreach (var worker in new[] { w1, w2 })
        {
            Assert.True(cluster.ScoredBy(worker) > 0, $"a worker scored nothing: {cluster.Output(worker)}");
        }
    }

    [Fact]
    public async Task A_worker_without_the_starting_checkpoints_fetches_them_from_the_coordinator_verifies_them_and_scores()
    {
        using var cluster = new LoopbackCluster(Budget);
        // The worker's config names checkpoints that do not exist on its side: nothing is copied.
        var elsewhere = Path.Combine(Path.GetDirectoryName(cluster.Fixture.Runs)!, "not-on-this-host");
        var models = string.Join(", ", Enumerable.Range(0, LoopbackCluster.Members).Select(k => $"\"{Path.Combine(elsewhere, $"model-{k}")}\""));
        var config = File.ReadAllText(cluster.WorkerConfig).Replace($"population.zoo = \"{cluster.Zoo}\"", $"population.models = [{models}]", StringComparison.Ordinal);
        Assert.NotEqual(File.ReadAllText(cluster.WorkerConfig), config);
        File.WriteAllText(cluster.WorkerConfig, config);
        var cache = Path.Combine(Path.GetDirectoryName(cluster.Fixture.Runs)!, "node-cache");

        var coordinator = cluster.StartCoordinator();
        var worker = cluster.StartWorker("w1", null, "--cache", cache);

        await LoopbackCluster.ExitsWith(0, coordinator, TimeSpan.FromMinutes(4));
        await LoopbackCluster.ExitsWith(0, worker, TimeSpan.FromMinutes(1));
        var output = cluster.Output(worker);
        Assert.Equal(LoopbackCluster.Members, FetchedLine().Count(output));
        Assert.True(cluster.ScoredBy(worker) > 0, $"the worker scored nothing: {output}");
        Assert.False(Directory.Exists(elsewhere));
        var recorded = cluster.Run.ReadFingerprint()!;
        foreach (var member in recorded.Members)
        {
            Assert.Equal(member.Sha256, RunFingerprint.Sha256OfCheckpoint(Path.Combine(cache, "members", member.Sha256)));
        }
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(cluster.Run.Root, "files.token")));
        }
    }

    [Fact]
    public async Task A_worker_killed_with_minus_9_costs_only_its_in_flight_offspring()
    {
        using var cluster = new LoopbackCluster(Budget);
        var coordinator = cluster.StartCoordinator();
        var w1 = cluster.StartWorker("w1");
        var w2 = cluster.StartWorker("w2");
        cluster.Fixture.WaitForStatus(cluster.RunId, s => s.Evaluations >= Budget / 4, "a quarter of the budget", TimeSpan.FromMinutes(3), coordinator);
        var before = await JournalAccess.ReadLedgerAsync(cluster.Run);
        w1.Kill(entireProcessTree: true);

        await LoopbackCluster.ExitsWith(0, coordinator, TimeSpan.FromMinutes(4));
        await LoopbackCluster.ExitsWith(0, w2, TimeSpan.FromMinutes(1));
        var after = await JournalAccess.ReadLedgerAsync(cluster.Run);
        Assert.Equal(Budget, after.State.Evaluations);
        Assert.Equal(0, after.State.Failed);
        Assert.Equal(before.Lineage.Select(a => a.WeightsId), after.Lineage.Take(before.Lineage.Count).Select(a => a.WeightsId));
        Assert.Contains("w1-evaluator-", cluster.Output(coordinator), StringComparison.Ordinal); // "evaluator w1-… is gone: N offspring re-issued"
    }

    [Fact]
    public async Task A_node_without_a_coordinator_to_join_says_so_and_exits_2_instead_of_waiting_forever()
    {
        using var cluster = new LoopbackCluster(budget: 20);
        await LoopbackCluster.ExitsWith(0, cluster.StartCoordinator(), TimeSpan.FromMinutes(2));
        Assert.False(File.Exists(cluster.Run.ClusterPath), "a coordinator that stopped forgets its address");

        var (code, _, error) = CliRunner.Run("node", "--config", cluster.WorkerConfig, "--run-id", cluster.RunId, "--runs", cluster.Fixture.Runs);
        Assert.Equal(2, code);
        Assert.Contains("has no coordinator running", error, StringComparison.Ordinal);

        // Port 9 on loopback: nothing listens, so the join can never succeed.
        var stray = cluster.StartNode("--join", "127.0.0.1:9");
        await LoopbackCluster.ExitsWith(2, stray, TimeSpan.FromMinutes(2));
        Assert.Contains("could not join the coordinator at akka.ssl.tcp://evolver@127.0.0.1:9 within 30 s", cluster.Output(stray), StringComparison.Ordinal);
    }

    [Fact]
    public void A_standby_on_a_host_without_the_run_directory_says_in_one_line_what_it_lacks()
    {
        using var cluster = new LoopbackCluster(budget: 20);
        var elsewhere = Directory.CreateDirectory(Path.Combine(cluster.Root, "another-host-runs")).FullName;
        string[] Standby(params string[] more) => ["node", "--config", cluster.CoordinatorConfig, "--run-id", cluster.RunId, "--runs", elsewhere, "--coordinator", .. more];

        var onSqlite = CliRunner.Run(Standby("--fetch-from", "http://127.0.0.1:9"));
        Assert.Equal(2, onSqlite.Code);
        Assert.Contains("a standby coordinator needs the journal in PostgreSQL", onSqlite.Error, StringComparison.Ordinal);

        // Parsed, never connected to: the missing --fetch-from is found first.
        cluster.WriteCoordinatorConfig("persistence.postgresql = \"Host=127.0.0.1;Port=9;Database=evolver;Username=evolver\"");
        var unfetched = CliRunner.Run(Standby());
        Assert.Equal(2, unfetched.Code);
        Assert.Contains("give --fetch-from URL", unfetched.Error, StringComparison.Ordinal);
        var withNodeDir = CliRunner.Run(Standby("--fetch-from", "http://127.0.0.1:9", "--node-dir", elsewhere));
        Assert.Equal(2, withNodeDir.Code);
        Assert.Contains("--node-dir: not with --coordinator", withNodeDir.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(elsewhere, cluster.RunId, "standby.json")), "a refused standby marked a copy");

        var worker = CliRunner.Run("node", "--config", cluster.WorkerConfig, "--run-id", cluster.RunId, "--runs", elsewhere, "--files-listen", "127.0.0.1:0");
        Assert.Equal(2, worker.Code);
        Assert.Contains("--files-listen 127.0.0.1:0: only with --coordinator", worker.Error, StringComparison.Ordinal);
        foreach (var error in new[] { onSqlite.Error, unfetched.Error, withNodeDir.Error, worker.Error })
        {
            Assert.Single(error.Trim().Split('\n'));
        }
    }

    [GeneratedRegex(@"starting member \d+ \(.*\) is not at its config path; fetched .* \(sha256 verified\)")]
    private static partial Regex FetchedLine();
}
