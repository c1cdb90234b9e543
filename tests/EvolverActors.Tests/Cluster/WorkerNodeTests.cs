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
}
