using System.Text.Json.Nodes;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Operators;

using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench overhead`: no-op evaluators on a population of 1 M-parameter models with persistence on. The
/// service's overhead per offspring is the pipeline's time per offspring minus the operator's own time.
/// </summary>
internal static class OverheadBenchmark
{
    public static async Task<JsonObject> RunAsync(long parameters, int members, int evaluators, long evaluations, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "evolver-bench-overhead-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var zoo = SyntheticZoo.Write(Path.Combine(root, "zoo"), members, parameters);
            var opMs = OperatorMs(parameters);
            var hashMs = HashMs(parameters);
            var config = SyntheticZoo.Config(Path.Combine(root, "overhead.conf"), zoo, "steady-state", evaluators, evaluations, "never", 0);
            SimulationStats.Shared.Reset();
            var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, "overhead", Path.Combine(root, "runs"), TextWriter.Null)).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw new Tensors.EvolverException($"bench overhead: the run exited with {exitCode}");
            }
            var stats = SimulationStats.Shared;
            var perSecond = stats.Evaluations / stats.Window.TotalSeconds;
            var overheadMs = (1000 / perSecond) - opMs;
            var modelMb = parameters * sizeof(float) / 1e6;
            var peakRssMb = PeakRssMb();
            var budgetMb = ((members + (2 * evaluators) + 2) * modelMb) + 400;
            log.WriteLine($"{stats.Evaluations} offspring of a {modelMb:F1} MB model, {members} members, {evaluators} no-op evaluators: {perSecond:F1} offspring/s; operator {opMs:F3} ms, overhead {overheadMs:F3} ms per offspring; peak RSS {peakRssMb:F0} MB (target <= {budgetMb:F0} MB)");
            return new JsonObject
            {
                ["bench"] = "overhead",
                ["offspring_per_s"] = Math.Round(perSecond, 1),
                ["operator_ms"] = Math.Round(opMs, 3),
                ["hash_ms"] = Math.Round(hashMs, 3),
                ["overhead_ms_per_offspring"] = Math.Round(overheadMs, 3),
                ["peak_rss_mb"] = Math.Round(peakRssMb, 1),
                ["model_mb"] = Math.Round(modelMb, 2),
                ["members"] = members,
                ["evaluators"] = evaluators,
            };
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The operator alone: one Evolver offspring (binomial, CR 0.5) into a preallocated child, median ms.</summary>
    private static double OperatorMs(long parameters)
    {
        using var target = OpsBenchmark.SyntheticModel(parameters, 1);
        using var reference = OpsBenchmark.SyntheticModel(parameters, 2);
        using var child = target.EmptyLike();
        var op = OperatorRegistry.Get("evolver");
        var settings = new BreedingSettings();
        ulong seed = 0;
        return Timing.InterleavedMedianMs(51, () => OffspringBuilder.BuildInto(child, op, settings, ++seed, target, [reference]))[0];
    }

    /// <summary>The content hash every scored child gets (recorded on acceptance, checked on rebuild), median ms.</summary>
    private static double HashMs(long parameters)
    {
        using var model = OpsBenchmark.SyntheticModel(parameters, 1);
        return Timing.InterleavedMedianMs(51, () => WeightHash.Of(model))[0];
    }

    /// <summary>VmHWM from /proc/self/status (the peak resident set), else the runtime's peak working set.</summary>
    internal static double PeakRssMb()
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            var line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb))
            {
                return kb / 1024.0;
            }
        }
        return Environment.WorkingSet / 1e6;
    }
}
