using System.Text.Json.Nodes;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Evaluation;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench schedule`: 8 simulated evaluators (log-normal durations, median 50 ms, σ 0.5) through the real
/// actors, journal and weight store, steady-state against generational in one process.
/// Utilization = busy time ÷ (evaluators × wall time from the first evaluation's start to the last one's end).
/// </summary>
internal static class ScheduleBenchmark
{
    public static async Task<JsonObject> RunAsync(int evaluators, int members, long evaluations, int? lag, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "evolver-bench-schedule-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var zoo = SyntheticZoo.Write(Path.Combine(root, "zoo"), members, parameters: 10_000);
            var results = new Dictionary<string, (double Utilization, double Throughput)>();
            foreach (var schedule in new[] { "steady-state", "generational" })
            {
                // The run's defaults throughout (breeding.lag, evaluators.max-undecided), but for --lag.
                var config = SyntheticZoo.Config(Path.Combine(root, schedule + ".conf"), zoo, schedule, evaluators, evaluations, "random", 50,
                    lag is { } l ? $"breeding.lag = {l}" : "");
                SimulationStats.Shared.Reset();
                var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, schedule, Path.Combine(root, "runs"), TextWriter.Null)).ConfigureAwait(false);
                if (exitCode != 0)
                {
                    throw new Tensors.EvolverException($"bench schedule: the {schedule} run exited with {exitCode}");
                }
                var stats = SimulationStats.Shared;
                var window = stats.Window.TotalSeconds;
                var utilization = stats.Busy.TotalSeconds / (evaluators * window);
                results[schedule] = (utilization, stats.Evaluations / window);
                log.WriteLine($"{schedule}: {stats.Evaluations} evaluations in {window:F2} s on {evaluators} evaluators: utilization {utilization:F3}, {stats.Evaluations / window:F1} evals/s");
            }
            return new JsonObject
            {
                ["bench"] = "schedule",
                ["evaluators"] = evaluators,
                ["members"] = members,
                ["evaluations"] = evaluations,
                ["lag"] = lag ?? new Actors.Run.RunSettings { Task = "-" }.Lag,
                ["steady_utilization"] = Math.Round(results["steady-state"].Utilization, 4),
                ["generational_utilization"] = Math.Round(results["generational"].Utilization, 4),
                ["throughput_ratio"] = Math.Round(results["steady-state"].Throughput / results["generational"].Throughput, 3),
            };
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
