using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tests.Service;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>
/// The coordinator node lost (docs/architecture.md §4): with the journal in PostgreSQL, a standby coordinator
/// (`evolver node --coordinator`) takes the steward and breeder singletons over, recovers the run from the journal and
/// finishes it; nothing accepted before the kill is lost and the lineage goes on from it.
/// </summary>
public sealed class CoordinatorFailoverTests
{
    private const int Budget = 3000;

    [Fact]
    public async Task A_coordinator_killed_with_minus_9_hands_the_run_to_a_standby_that_finishes_it()
    {
        var database = TestPostgres.RequireServer();
        using var cluster = new LoopbackCluster(Budget, extra: $"persistence.postgresql = \"{database}\"", runId: TestPostgres.UniqueRunId());
        var coordinator = cluster.StartCoordinator();
        var standby = cluster.StartStandby("sb");
        var worker = cluster.StartWorker("w1");
        cluster.WaitForOutput(standby, "running:", TimeSpan.FromMinutes(2)); // joined: its progress comes from the steward
        cluster.WaitForOutput(worker, "evaluators pull work", TimeSpan.FromMinutes(2));
        cluster.Fixture.WaitForStatus(cluster.RunId, s => s.Evaluations >= Budget / 5, "a fifth of the budget", TimeSpan.FromMinutes(3), coordinator);

        var before = await JournalAccess.ReadLedgerAsync(cluster.Run);
        coordinator.Kill(entireProcessTree: true);

        cluster.WaitForOutput(standby, "took the run over", TimeSpan.FromMinutes(2));
        // The run is the standby's now: the coordinator started again must not put a second steward on the journal.
        var (code, _, error) = CliRunner.Run("run", "--config", cluster.CoordinatorConfig, "--run-id", cluster.RunId, "--runs", cluster.Fixture.Runs);
        Assert.True(code == 2 && error.Contains("is already running", StringComparison.Ordinal), $"exit {code}: {error}");

        await LoopbackCluster.ExitsWith(0, standby, TimeSpan.FromMinutes(4));
        await LoopbackCluster.ExitsWith(0, worker, TimeSpan.FromMinutes(1));
        var after = await JournalAccess.ReadLedgerAsync(cluster.Run);
        Assert.True(after.State.Finished, cluster.Output(standby));
        Assert.Equal(Budget, after.State.Evaluations);
        Assert.True(after.Lineage.Count >= before.Lineage.Count, $"{before.Lineage.Count} accepted before the kill, {after.Lineage.Count} after");
        Assert.Equal(before.Lineage.Select(a => a.WeightsId), after.Lineage.Take(before.Lineage.Count).Select(a => a.WeightsId));
        Assert.Equal(after.Lineage.Select(a => a.Version), Enumerable.Range(1, after.Lineage.Count).Select(v => (long)v)); // strictly sequential
        Assert.True(cluster.ScoredBy(worker) > 0, cluster.Output(worker));
    }

    [Fact]
    public async Task A_standby_without_the_run_directory_copies_it_from_the_file_server_and_takes_the_run_over()
    {
        var database = TestPostgres.RequireServer();
        using var cluster = new LoopbackCluster(Budget, extra: $"persistence.postgresql = \"{database}\"", runId: TestPostgres.UniqueRunId());
        var secret = Path.Combine(cluster.Root, "secret.p12");
        Assert.Equal(0, CliRunner.Run("secret", "--out", secret).Code);
        cluster.WriteCoordinatorConfig($"persistence.postgresql = \"{database}\"\ncluster.secret = \"{secret}\"\npersistence.population-snapshot-every = 5");
        // "Another host": the standby's runs root is its own and empty; it is given the coordinator's addresses and token.
        var standbyRuns = Directory.CreateDirectory(Path.Combine(cluster.Root, "standby-host-runs")).FullName;
        var coordinator = cluster.StartCoordinator();
        var (join, files) = WorkerNodeTests.AwaitCoordinatorWithSnapshots(cluster, coordinator, snapshots: 1);
        var token = File.ReadAllText(Path.Combine(cluster.Run.Root, "files.token")).Trim();
        var standby = cluster.StartNodeWith(new Dictionary<string, string> { ["EVOLVER_FILES_TOKEN"] = token },
            "--config", cluster.CoordinatorConfig, "--run-id", cluster.RunId, "--runs", standbyRuns, "--name", "sb", "--coordinator", "--join", join, "--fetch-from", files);
        var worker = cluster.StartWorker("w1");
        cluster.WaitForOutput(standby, "running:", TimeSpan.FromMinutes(2));
        cluster.WaitForOutput(worker, "evaluators pull work", TimeSpan.FromMinutes(2));
        cluster.Fixture.WaitForStatus(cluster.RunId, s => s.Evaluations >= Budget / 5, "a fifth of the budget", TimeSpan.FromMinutes(3), coordinator);
        var copy = RunDirectory.Open(standbyRuns, cluster.RunId);
        Assert.Equal(File.ReadAllText(cluster.Run.FingerprintPath), File.ReadAllText(copy.FingerprintPath));
        Assert.False(File.Exists(copy.ClusterPath), "the standby claimed the run before it held it");

        var before = await JournalAccess.ReadLedgerAsync(cluster.Run);
        coordinator.Kill(entireProcessTree: true);
        cluster.WaitForOutput(standby, "took the run over", TimeSpan.FromMinutes(2));
        // Its copy is the run directory now: the run lock, and cluster.json with its own file server for nodes that join later.
        Assert.NotNull(copy.RunningCoordinator()?.Files);

        await LoopbackCluster.ExitsWith(0, standby, TimeSpan.FromMinutes(4));
        await LoopbackCluster.ExitsWith(0, worker, TimeSpan.FromMinutes(1));
        var after = await JournalAccess.ReadLedgerAsync(copy);
        Assert.True(after.State.Finished, cluster.Output(standby));
        Assert.Equal(Budget, after.State.Evaluations);
        Assert.Equal(before.Lineage.Select(a => a.WeightsId), after.Lineage.Take(before.Lineage.Count).Select(a => a.WeightsId));
        Assert.Equal(after.Lineage.Select(a => a.Version), Enumerable.Range(1, after.Lineage.Count).Select(v => (long)v));
        var status = CliRunner.Run("status", "--run", cluster.RunId, "--runs", standbyRuns);
        Assert.True(status.Code == 0 && status.Output.Contains("finished", StringComparison.Ordinal), status.Output + status.Error);
        Assert.DoesNotContain("   at ", cluster.Output(standby), StringComparison.Ordinal);
    }
}
