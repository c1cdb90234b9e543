using System.Diagnostics;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench store`: a real run whose every offspring is accepted (a simulated evaluator that always improves), on
/// 8 members of ≥ 100 MB, then a rebuild of every accepted member from recipes alone. It reports what the run wrote per
/// acceptance — the journal (all that is written between population snapshots) and the snapshots, apart — and the
/// rebuild's speed next to copy bandwidth measured between the rebuilds, on warm buffers of the same layout, counted
/// over the same bytes a rebuild moves (<see cref="CopyReference"/>, docs/architecture.md §3).
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
            WeightLayout layout;
            // Untimed warm-up: one starting member loaded (JIT, file headers); its buffer goes back to the materializer.
            using (var warm = weights.Resident.Acquire(report.Starts[0].SlotWeights[0]))
            {
                layout = warm.Weights.Layout;
            }
            using var copy = new CopyReference(layout);
            // The replay knows every access in advance, so it holds each set exactly until its last use as an input
            // (instead of trusting an LRU, which evicts the old populations later recipes were bred from): each accepted
            // member is rebuilt once, each starting member loaded once. Sets go back to the materializer as buffers after
            // their last use (no unheld cache), and the replay first reserves its working set, the most sets it holds at
            // once: after this one-time warm-up (the first touch of that memory, timed apart) it never allocates again.
            var lag = resolved.Config.Settings.Lag;
            var cache = new ResidentWeights(weights.Materializer, CPU);
            var workingSet = ReplayPlan.PeakHeld(report.Recipes, []);
            var warmup = Stopwatch.StartNew();
            weights.Materializer.Reserve(workingSet);
            warmup.Stop();
            var rebuildsBefore = weights.Materializer.Rebuilds;
            // Only the replay is timed: the watch stops while the copy reference is sampled between acceptances.
            var watch = Stopwatch.StartNew();
            var each = new List<(double Ms, double Bytes)>();
            var (t, r0, l0) = (0.0, weights.Materializer.Rebuilds, cache.Loads);
            var held = ReplayPlan.Run(cache, report.Recipes, [], k =>
            {
                watch.Stop();
                var (rebuilt, loaded) = (weights.Materializer.Rebuilds - r0, cache.Loads - l0);
                // A rebuild reads its distinct inputs, writes the child and reads it again for the hash check; a starting
                // member loaded from its checkpoint is read (from the page cache) and written once.
                var inputs = report.Recipes[k].Recipe.Inputs().Distinct(StringComparer.Ordinal).Count();
                var bytes = (double)modelBytes * (((inputs + 2) * rebuilt) + (2 * (loaded - rebuilt)));
                each.Add((watch.Elapsed.TotalMilliseconds - t, bytes));
                copy.Sample();
                (t, r0, l0) = (watch.Elapsed.TotalMilliseconds, weights.Materializer.Rebuilds, cache.Loads);
                watch.Start();
            });
            watch.Stop();
            // Steady state: the acceptances after the first members + lag + 4, which load the starting members.
            var steady = each.Skip(members + lag + 4).ToList();
            var replayMs = watch.Elapsed.TotalMilliseconds / count;
            var rebuilds = weights.Materializer.Rebuilds - rebuildsBefore;
            foreach (var lease in held.Values)
            {
                lease.Dispose();
            }
            cache.Trim();
            var materializeGbPerS = each.Sum(e => e.Bytes) / watch.Elapsed.TotalSeconds / 1e9;
            var withWarmupGbPerS = each.Sum(e => e.Bytes) / (watch.Elapsed + warmup.Elapsed).TotalSeconds / 1e9;
            var steadyGbPerS = steady.Count == 0 ? double.NaN : steady.Sum(e => e.Bytes) / (steady.Sum(e => e.Ms) / 1000) / 1e9;
            var copyGbPerS = copy.GbPerS;
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
                ["working_set_sets"] = workingSet,
                ["warmup_ms"] = Math.Round(warmup.Elapsed.TotalMilliseconds),
                ["materialize_gb_per_s"] = Math.Round(materializeGbPerS, 2),
                ["copy_samples"] = copy.Samples,
                ["torch_copy_gb_per_s"] = Math.Round(copy.TorchGbPerS, 2),
                ["streaming_copy_gb_per_s"] = Math.Round(copy.StreamingGbPerS, 2),
                ["copy_gb_per_s"] = Math.Round(copyGbPerS, 2),
                ["materialize_ratio"] = Math.Round(materializeGbPerS / copyGbPerS, 3),
                ["materialize_ratio_with_warmup"] = Math.Round(withWarmupGbPerS / copyGbPerS, 3),
                ["steady_acceptances"] = steady.Count,
                ["steady_materialize_gb_per_s"] = Math.Round(steadyGbPerS, 2),
                ["steady_materialize_ratio"] = Math.Round(steadyGbPerS / copyGbPerS, 3),
            };
            return result;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
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
