using System.Diagnostics;
using System.Text.RegularExpressions;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Bench;
using EvolverActors.Host.Run;
using EvolverActors.Tests.Service;
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
        var worker = cluster.StartWorker("w1", "--cache", cache);

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
        Assert.Contains("could not join the coordinator at akka.tcp://evolver@127.0.0.1:9 within 30 s", cluster.Output(stray), StringComparison.Ordinal);
    }

    /// <summary>A simulated run (log-normal evaluation times, random scores) shared by a coordinator and its workers.</summary>
    private sealed class LoopbackCluster : IDisposable
    {
        public const int Members = 6;

        private readonly Dictionary<Process, System.Text.StringBuilder> _output = [];

        public LoopbackCluster(int budget)
        {
            Fixture = new ServiceFixture();
            var root = Path.GetDirectoryName(Fixture.Runs)!;
            var zoo = SyntheticZoo.Write(Path.Combine(root, "sim-zoo"), members: Members, parameters: 20_000);
            Zoo = zoo;
            CoordinatorConfig = SyntheticZoo.Config(Path.Combine(root, "coordinator.conf"), zoo, "steady-state", evaluators: 1, budget, "random", medianMs: 10,
                extra: "breeding.queue = 8");
            WorkerConfig = SyntheticZoo.Config(Path.Combine(root, "worker.conf"), zoo, "steady-state", evaluators: 2, budget, "random", medianMs: 10,
                extra: "breeding.queue = 8");
        }

        public ServiceFixture Fixture { get; }
        public string Zoo { get; }
        public string CoordinatorConfig { get; }
        public string WorkerConfig { get; }
        public string RunId { get; } = "cluster";
        public RunDirectory Run => RunDirectory.Open(Fixture.Runs, RunId);

        public Process StartCoordinator() => Track(Fixture.Start("run", "--config", CoordinatorConfig, "--run-id", RunId, "--runs", Fixture.Runs));

        /// <summary>A worker, once the coordinator has recorded its address (the node finds it in the run directory).</summary>
        public Process StartWorker(string name, params string[] more)
        {
            var wait = Stopwatch.StartNew();
            while (Run.RunningCoordinator() is null)
            {
                Assert.True(wait.Elapsed < TimeSpan.FromMinutes(2), "the coordinator never recorded its address");
                Thread.Sleep(50);
            }
            return Track(Fixture.Start(["node", "--config", WorkerConfig, "--run-id", RunId, "--runs", Fixture.Runs, "--name", name, .. more]));
        }

        /// <summary>A worker with more arguments (no wait for the coordinator).</summary>
        public Process StartNode(params string[] more) =>
            Track(Fixture.Start(["node", "--config", WorkerConfig, "--run-id", RunId, "--runs", Fixture.Runs, .. more]));

        public string Output(Process process)
        {
            lock (_output)
            {
                return _output[process].ToString();
            }
        }

        /// <summary>What a worker said it scored when it left.</summary>
        public long ScoredBy(Process worker) =>
            ScoredLine().Match(Output(worker)) is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;

        public static async Task ExitsWith(int code, Process process, TimeSpan timeout)
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
            Assert.True(process.ExitCode == code, $"exit status {process.ExitCode}, expected {code}");
        }

        private Process Track(Process process)
        {
            var text = new System.Text.StringBuilder();
            lock (_output)
            {
                _output[process] = text;
            }
            void Append(object _, DataReceivedEventArgs e)
            {
                lock (_output)
                {
                    text.AppendLine(e.Data);
                }
            }
            process.OutputDataReceived += Append;
            process.ErrorDataReceived += Append;
            return process;
        }

        public void Dispose()
        {
            foreach (var process in _output.Keys)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                }
                process.Dispose();
            }
            Fixture.Dispose();
        }
    }

    [GeneratedRegex(@"its evaluators scored (\d+) offspring")]
    private static partial Regex ScoredLine();

    [GeneratedRegex(@"starting member \d+ \(.*\) is not at its config path; fetched .* \(sha256 verified\)")]
    private static partial Regex FetchedLine();
}
