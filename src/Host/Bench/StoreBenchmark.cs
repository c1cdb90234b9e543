using System.Diagnostics;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench store`: a real run whose every offspring is accepted (a simulated evaluator that always improves), on
/// 8 members of ≥ 100 MB, then a rebuild of every accepted member from recipes alone. It reports what the run wrote per
/// acceptance — the journal (all that is written between population snapshots) and the snapshots, apart — and the
/// rebuild's speed next to the same process's streaming copy bandwidth over the same bytes (docs/architecture.md §3).
/// </summary>
internal static class StoreBenchmark
{
    public static async Task<JsonObject> RunAsync(long parameters, int members, int accepted, int snapshotEvery, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "evolver-bench-store-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var zoo = SyntheticZoo.Write(Path.Combine(root, "zoo"), members, parameters);
            var modelBytes = parameters * sizeof(float);
            // Individual mode scores each member first (N evaluations); then every offspring is accepted.
            var config = SyntheticZoo.Config(Path.Combine(root, "store.conf"), zoo, "steady-state", evaluators: 1, members + accepted, "always", 0,
                $"persistence.population-snapshot-every = {snapshotEvery}");
            var runs = Path.Combine(root, "runs");
            var written = WrittenBytes();
            var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, "store", runs, TextWriter.Null)).ConfigureAwait(false);
            written = WrittenBytes() - written;
            if (exitCode != 0)
            {
                throw new EvolverException($"bench store: the run exited with {exitCode}");
            }
            var run = RunDirectory.Open(runs, "store");
            var report = await JournalAccess.ReadLedgerAsync(run).ConfigureAwait(false);
            var journalBytes = Directory.EnumerateFiles(run.Root, RunDirectory.JournalFileName + "*").Sum(f => new FileInfo(f).Length);
            var count = report.Recipes.Count;
            log.WriteLine($"{count} offspring accepted on {members} members of {modelBytes / 1e6:F0} MB: journal {journalBytes / 1e3:F1} kB, "
                + $"{written / 1e9:F2} GB written by the process in all (population snapshots every {snapshotEvery} acceptances included)");

            // Rebuild every accepted member, in order, from the starting checkpoints and the recipes (no snapshot).
            var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath));
            var weights = RunWeights.OpenForReading(run, resolved, report, CPU, useSnapshots: false);
            using (var warm = weights.Resident.Acquire(report.Starts[0].SlotWeights[0]))
            {
            }
            // The replay knows every access in advance, so it holds each set exactly until its last use as an input
            // (instead of trusting an LRU, which evicts the old populations later recipes were bred from): each accepted
            // member is rebuilt once, each starting member loaded once. A small unheld cache keeps freed sets as buffers.
            var lag = resolved.Config.Settings.Lag;
            var cache = new ResidentWeights(weights.Materializer, CPU, maxBytes: 2 * modelBytes);
            var loadsBefore = weights.Materializer.Rebuilds;
            var watch = Stopwatch.StartNew();
            var each = new List<(double Ms, long Rebuilds, long Loads)>();
            var (t, r0, l0) = (0.0, weights.Materializer.Rebuilds, cache.Loads);
            var held = ReplayPlan.Run(cache, report.Recipes, [], k =>
            {
                each.Add((watch.Elapsed.TotalMilliseconds - t, weights.Materializer.Rebuilds - r0, cache.Loads - l0));
                (t, r0, l0) = (watch.Elapsed.TotalMilliseconds, weights.Materializer.Rebuilds, cache.Loads);
            });
            // Steady state: once the cache is full, evicted sets are reused as rebuild buffers; before that every rebuild
            // touches fresh memory, and first-touch page faults (slow in a VM) dominate.
            var steady = each.Skip(members + lag + 4).ToList();
            watch.Stop();
            var replayMs = watch.Elapsed.TotalMilliseconds / count;
            var rebuilds = weights.Materializer.Rebuilds - loadsBefore;
            foreach (var lease in held.Values)
            {
                lease.Dispose();
            }
            cache.Trim();
            var inputs = report.Recipes[0].Recipe.ParentWeights.Length + 1;
            var moved = (inputs + 2) * modelBytes;
            // Starting members loaded from their checkpoints move their bytes twice too (read, then written to memory).
            var materializeGbPerS = ((moved * (double)rebuilds) + (2.0 * modelBytes * (cache.Loads - rebuilds))) / watch.Elapsed.TotalSeconds / 1e9;
            var memcpyGbPerS = CopyGbPerS(parameters);
            var steadyGbPerS = steady.Count == 0 ? double.NaN
                : ((moved * (double)steady.Sum(e => e.Rebuilds)) + (2.0 * modelBytes * steady.Sum(e => e.Loads - e.Rebuilds))) / (steady.Sum(e => e.Ms) / 1000) / 1e9;
            var result = new JsonObject
            {
                ["bench"] = "store",
                ["model_mb"] = Math.Round(modelBytes / 1e6, 1),
                ["members"] = members,
                ["accepted"] = count,
                ["bytes_written_per_acceptance"] = Math.Round((double)journalBytes / count, 1),
                ["bytes_ratio_of_model"] = Math.Round((double)journalBytes / count / modelBytes, 6),
                ["snapshot_every"] = snapshotEvery,
                ["snapshot_bytes_per_acceptance"] = Math.Round(Math.Max(0, written - journalBytes) / (double)count),
                ["replay_ms_per_acceptance"] = Math.Round(replayMs, 1),
                ["rebuilds"] = rebuilds,
                ["starting_loads"] = cache.Loads - rebuilds,
                ["materialize_gb_per_s"] = Math.Round(materializeGbPerS, 2),
                ["memcpy_gb_per_s"] = Math.Round(memcpyGbPerS, 2),
                ["materialize_ratio"] = Math.Round(materializeGbPerS / memcpyGbPerS, 3),
                ["steady_acceptances"] = steady.Count,
                ["steady_materialize_gb_per_s"] = Math.Round(steadyGbPerS, 2),
                ["steady_materialize_ratio"] = Math.Round(steadyGbPerS / memcpyGbPerS, 3),
            };
            return result;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Streaming copy bandwidth (bytes read + written per second) of a model-sized float32 tensor, median of 11.</summary>
    private static double CopyGbPerS(long parameters)
    {
        using var source = randn(parameters);
        using var destination = source.clone();
        var ms = Timing.InterleavedMedianMs(11, () => destination.copy_(source))[0];
        return 2.0 * parameters * sizeof(float) / (ms / 1000) / 1e9;
    }

    /// <summary>Bytes this process has caused to be written to storage so far (/proc/self/io), 0 where unknown.</summary>
    private static long WrittenBytes()
    {
        const string Io = "/proc/self/io";
        if (!File.Exists(Io))
        {
            return 0;
        }
        var line = File.ReadLines(Io).FirstOrDefault(l => l.StartsWith("write_bytes:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line["write_bytes:".Length..].Trim(), out var bytes) ? bytes : 0;
    }
}
