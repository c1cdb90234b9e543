using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench cluster` (docs/architecture.md §4): the same simulated run (log-normal evaluation times, random
/// scores) on 1, 2 and 3 nodes on loopback (a coordinator and n − 1 `evolver node` workers, each with the same
/// evaluators), measured as evaluations per second between 20 % and 80 % of the budget once every node has started its
/// evaluators; then the 3-node run again with one worker killed (-9) at mid-run, checking that every acceptance made
/// before the kill is still in the final lineage; then, with the journal in PostgreSQL (<c>--postgresql</c>), a coordinator,
/// a standby coordinator and a worker with the coordinator killed (-9) at mid-run: failover_s is the time from the kill
/// to the standby's first new evaluation. Without a database that phase is skipped and reported as null.
/// </summary>
internal static class ClusterBenchmark
{
    public static JsonObject Run(int evaluatorsPerNode, long evaluations, double medianMs, string? postgresql, TextWriter log)
    {
        var root = Directory.CreateTempSubdirectory("evolver-bench-cluster-").FullName;
        try
        {
            var zoo = SyntheticZoo.Write(Path.Combine(root, "zoo"), members: 8, parameters: 10_000);
            var rates = new List<double>();
            for (var nodes = 1; nodes <= 3; nodes++)
            {
                using var run = new LoopbackRun(root, $"n{nodes}", zoo, evaluatorsPerNode, evaluations, medianMs);
                run.Start(nodes);
                var (atStart, startEvaluations) = run.WaitFor(s => s.Evaluations >= evaluations / 5, "20 % of the budget");
                var (atEnd, endEvaluations) = run.WaitFor(s => s.Evaluations >= evaluations * 4 / 5, "80 % of the budget");
                var rate = (endEvaluations - startEvaluations) / (atEnd - atStart).TotalSeconds;
                run.WaitForEnd();
                rates.Add(rate);
                log.WriteLine($"{nodes} node(s), {nodes * evaluatorsPerNode} evaluators: {rate:F1} evaluations/s");
            }

            using var lossy = new LoopbackRun(root, "worker-loss", zoo, evaluatorsPerNode, evaluations, medianMs);
            lossy.Start(3);
            lossy.WaitFor(s => s.Evaluations >= evaluations / 2, "half the budget");
            var before = JournalAccess.ReadLedgerAsync(lossy.Directory).GetAwaiter().GetResult();
            lossy.KillWorker();
            lossy.WaitForEnd();
            var after = JournalAccess.ReadLedgerAsync(lossy.Directory).GetAwaiter().GetResult();
            var lost = LostAcceptances(before, after);
            log.WriteLine($"worker killed at {before.State.Evaluations} evaluations ({before.Lineage.Count} accepted): the run finished with "
                + $"{after.State.Evaluations} evaluations, {after.Lineage.Count} accepted, {lost} of the earlier acceptances missing");

            (int Lost, bool Finished, double FailoverSeconds)? coordinatorLoss = postgresql is null ? null : CoordinatorLoss(root, zoo, evaluatorsPerNode, evaluations, medianMs, postgresql, log);
            if (postgresql is null)
            {
                log.WriteLine("coordinator loss: skipped (it needs the journal in PostgreSQL: give --postgresql CONNECTION)");
            }

            return new JsonObject
            {
                ["bench"] = "cluster",
                ["nodes"] = new JsonArray(1, 2, 3),
                ["evaluators_per_node"] = evaluatorsPerNode,
                ["median_ms"] = medianMs,
                ["evals_per_s"] = new JsonArray([.. rates.Select(r => (JsonNode)Math.Round(r, 1))]),
                ["scaling_efficiency"] = Math.Round(rates[2] / (3 * rates[0]), 3),
                ["worker_loss_lost_accepted"] = lost,
                ["worker_loss_finished"] = after.State.Finished && after.State.Evaluations == evaluations,
                ["coordinator_loss_lost_accepted"] = coordinatorLoss?.Lost,
                ["coordinator_loss_finished"] = coordinatorLoss?.Finished,
                ["failover_s"] = coordinatorLoss is { } loss ? Math.Round(loss.FailoverSeconds, 1) : null,
            };
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int LostAcceptances(LedgerReport before, LedgerReport after)
    {
        var kept = after.Lineage.Select(a => a.WeightsId).ToHashSet(StringComparer.Ordinal);
        return before.Lineage.Count(a => !kept.Contains(a.WeightsId));
    }

    /// <summary>A coordinator, a standby coordinator and a worker on PostgreSQL; the coordinator killed at mid-run.</summary>
    private static (int Lost, bool Finished, double FailoverSeconds) CoordinatorLoss(string root, string zoo, int evaluatorsPerNode, long evaluations,
        double medianMs, string postgresql, TextWriter log)
    {
        var runId = "coordinator-loss-" + Guid.NewGuid().ToString("N")[..8]; // runs share the database
        using var run = new LoopbackRun(root, runId, zoo, evaluatorsPerNode, evaluations, medianMs, $"persistence.postgresql = \"{postgresql}\"");
        run.Start(3, standby: true);
        var (_, atKill) = run.WaitFor(s => s.Evaluations >= evaluations / 2, "half the budget");
        var before = JournalAccess.ReadLedgerAsync(run.Directory).GetAwaiter().GetResult();
        var coordinatorPid = run.KillCoordinator();
        var killed = Stopwatch.StartNew();
        run.WaitFor(s => s.Pid != coordinatorPid && s.Evaluations > atKill, "the standby's first evaluation");
        var failover = killed.Elapsed.TotalSeconds;
        run.WaitForEnd(process: 1);
        var after = JournalAccess.ReadLedgerAsync(run.Directory).GetAwaiter().GetResult();
        var lost = LostAcceptances(before, after);
        log.WriteLine($"coordinator killed at {before.State.Evaluations} evaluations ({before.Lineage.Count} accepted): the standby evaluated again "
            + $"{failover:F1} s later and finished with {after.State.Evaluations} evaluations, {after.Lineage.Count} accepted, {lost} of the earlier acceptances missing");
        return (lost, after.State.Finished && after.State.Evaluations == evaluations, failover);
    }

    /// <summary>One run of the benchmark: its processes (killed on dispose) and its run directory.</summary>
    private sealed class LoopbackRun : IDisposable
    {
        private readonly List<Process> _processes = [];
        private readonly string _config; // every node runs the same config (the same evaluators)
        private readonly string _runs;
        private readonly string _runId;
        private int _workersReady;
        private static readonly string[] StandbyFlag = ["--coordinator"];

        public LoopbackRun(string root, string runId, string zoo, int evaluators, long evaluations, double medianMs, string extra = "")
        {
            _runId = runId;
            _runs = Path.Combine(root, "runs");
            var config = Path.Combine(root, runId + ".conf");
            _config = SyntheticZoo.Config(config, zoo, "steady-state", evaluators, evaluations, "random", medianMs, "breeding.queue = 8\n" + extra);
            Directory = RunDirectory.Open(_runs, runId);
        }

        public RunDirectory Directory { get; }

        /// <summary>
        /// Starts the coordinator and <paramref name="nodes"/> − 1 workers, and waits until every worker's evaluators have
        /// started; with <paramref name="standby"/> the first of them is a standby coordinator (`evolver node --coordinator`).
        /// </summary>
        public void Start(int nodes, bool standby = false)
        {
            _processes.Add(Evolver(null, "run", "--config", _config, "--run-id", _runId, "--runs", _runs));
            var watch = Stopwatch.StartNew();
            while (Directory.RunningCoordinator() is null)
            {
                Require(watch, "the coordinator to record its address");
            }
            for (var i = 1; i < nodes; i++)
            {
                _processes.Add(Evolver(line =>
                {
                    // A worker's evaluators started; a standby coordinator's progress comes from the steward once it joined.
                    if (line.Contains("evaluators pull work", StringComparison.Ordinal) || line.Contains("] running:", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref _workersReady);
                    }
                }, ["node", "--config", _config, "--run-id", _runId, "--runs", _runs, "--name", $"w{i}", .. (standby && i == 1 ? StandbyFlag : [])]));
            }
            while (Volatile.Read(ref _workersReady) < nodes - 1)
            {
                Require(watch, "the workers' evaluators to start");
            }
        }

        public (DateTime At, long Evaluations) WaitFor(Func<RunStatusView, bool> condition, string phase)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                RunStatusView? status = null;
                try
                {
                    status = Directory.ReadStatus();
                }
                catch (Exception e) when (e is IOException or System.Text.Json.JsonException or EvolverException)
                {
                    // the steward renames a new status into place; read again
                }
                if (status is not null && condition(status))
                {
                    return (DateTime.UtcNow, status.Evaluations);
                }
                Require(watch, phase);
            }
        }

        /// <summary>Waits for the coordinator (<paramref name="process"/> 0; 1 for the standby once it took over) to finish the run.</summary>
        public void WaitForEnd(int process = 0)
        {
            var coordinator = _processes[process];
            if (!coordinator.WaitForExit(TimeSpan.FromMinutes(10)) || coordinator.ExitCode != 0)
            {
                throw new EvolverException($"bench cluster: the coordinator of {_runId} did not finish (exit {(coordinator.HasExited ? coordinator.ExitCode.ToString(CultureInfo.InvariantCulture) : "none")})");
            }
        }

        public void KillWorker() => _processes[1].Kill(entireProcessTree: true);

        /// <summary>Kills the first coordinator (-9); its pid, which its last status carries.</summary>
        public int KillCoordinator()
        {
            _processes[0].Kill(entireProcessTree: true);
            return _processes[0].Id;
        }

        private void Require(Stopwatch watch, string what)
        {
            if (_processes[0].HasExited && !what.StartsWith("the coordinator", StringComparison.Ordinal) && !what.StartsWith("the standby", StringComparison.Ordinal))
            {
                var why = Directory.ReadStatus()?.Reason;
                throw new EvolverException($"bench cluster: the coordinator exited with {_processes[0].ExitCode} while waiting for {what}{(why is null ? "" : $": {why}")}");
            }
            if (watch.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new EvolverException($"bench cluster: timed out waiting for {what}");
            }
            Thread.Sleep(20);
        }

        private static Process Evolver(Action<string>? onLine, params IEnumerable<string> args)
        {
            var process = Process.Start(EvolverChild.StartInfo(args))!;
            process.OutputDataReceived += (_, e) => onLine?.Invoke(e.Data ?? "");
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        public void Dispose()
        {
            foreach (var process in _processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                }
                process.Dispose();
            }
        }
    }
}
