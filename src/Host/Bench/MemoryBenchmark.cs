using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench memory`: a population too large for the node's memory budget evolves in merged mode (docs/architecture.md
/// §3, members of any size). The benchmark writes N synthetic bfloat16 members, then runs `evolver run` in a child process
/// under <c>memory.max-resident</c>, with a cheap scorer that reads every merged candidate and accepts every offspring,
/// and samples the child's peak resident set (VmHWM) while it runs, so the bench's own writing does not count.
/// </summary>
internal static class MemoryBenchmark
{
    public static JsonObject Run(double modelGb, int members, long budgetBytes, int accepted, int tensorMb, string? scratch, string? existingZoo, TextWriter log)
    {
        if (modelGb <= 0 || members < 2 || accepted < 1 || tensorMb <= 0 || budgetBytes <= 0)
        {
            throw new EvolverException("bench memory: --model-gb, --budget, --accepted and --tensor-mb must be positive and --members at least 2");
        }
        var root = Path.Combine(Path.GetFullPath(scratch ?? Path.GetTempPath()), "evolver-bench-memory-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var specs = MergeMemoryBenchmark.Layout((long)(modelGb * 1000), tensorMb, ScalarType.BFloat16);
            var modelBytes = specs.Sum(SafetensorsWriter.DataBytes);
            var zoo = existingZoo is null ? Path.Combine(root, "zoo") : Path.GetFullPath(existingZoo);
            var watch = Stopwatch.StartNew();
            Directory.CreateDirectory(root);
            if (existingZoo is null)
            {
                for (var k = 0; k < members; k++)
                {
                    MergeMemoryBenchmark.WriteModel(Path.Combine(zoo, SyntheticZoo.ModelPath(k)), specs, seed: 1000 + k);
                }
                SyntheticZoo.WriteManifest(zoo, members);
            }
            else if (!File.Exists(Path.Combine(zoo, SyntheticZoo.ModelPath(members - 1), Checkpoint.SingleFileName)))
            {
                throw new EvolverException($"bench memory: --zoo {zoo} is not a population this bench wrote with --members {members}");
            }
            var populationBytes = members * modelBytes;
            log.WriteLine($"{(existingZoo is null ? "wrote" : "reused")} {members} bfloat16 members of {ByteSize.Format(modelBytes)} ({specs.Count} tensors; {ByteSize.Format(populationBytes)} in all) in {watch.Elapsed.TotalSeconds:F0} s under {zoo}");

            // Merged average, every offspring accepted (max-evaluations counts the population's own score too). Members a
            // breeder may still breed from stay on disk (spilled when adopted): a lag of 1 and frequent snapshots keep them
            // few, so the run's disk stays near N + 4 models beside the population's own files.
            var config = SyntheticZoo.Config(Path.Combine(root, "memory.conf"), zoo, "steady-state", evaluators: 1, accepted + 1, "always", 0,
                string.Create(CultureInfo.InvariantCulture, $$"""
                fitness { mode = merged, merge-method = average }
                breeding { queue = 1, lag = 1 }
                simulation.reads-weights = true
                memory.max-resident = {{budgetBytes}}
                persistence.population-snapshot-every = 2
                """));
            var runs = Path.Combine(root, "runs");
            double peakMb, seconds;
            try
            {
                (peakMb, seconds) = MergeMemoryBenchmark.Child(["run", "--config", config, "--run-id", "memory", "--runs", runs], "memory");
            }
            catch (EvolverException e) when (RunDirectory.Open(runs, "memory").ReadStatus()?.Reason is { } reason)
            {
                throw new EvolverException($"{e.Message} ({reason})");
            }
            var status = RunDirectory.Open(runs, "memory").ReadStatus() ?? throw new EvolverException("bench memory: the run wrote no status");
            var peakGb = peakMb * 1024 * 1024 / 1e9;
            log.WriteLine($"{status.Accepted} offspring accepted in merged/average mode on {members} x {ByteSize.Format(modelBytes)} under memory.max-resident = "
                + $"{ByteSize.Format(budgetBytes)}: peak RSS {peakGb:F2} GB (target <= {(budgetBytes / 1e9) + 1:F2} GB), {seconds:F0} s");
            return new JsonObject
            {
                ["bench"] = "memory",
                ["population_gb"] = Math.Round(populationBytes / 1e9, 2),
                ["model_gb"] = Math.Round(modelBytes / 1e9, 2),
                ["budget_gb"] = Math.Round(budgetBytes / 1e9, 2),
                ["peak_rss_gb"] = Math.Round(peakGb, 2),
                ["accepted"] = status.Accepted,
                ["evaluations"] = status.Evaluations,
                ["seconds"] = Math.Round(seconds),
            };
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
