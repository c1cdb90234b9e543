using System.CommandLine;
using System.Text.Json;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver replay --run ID [--version V] --out DIR [--fused] [--from-recipes]</c>: rebuilds a run's population at
/// any version from the starting checkpoints and the journal's recipes (docs/architecture.md §3), bit for bit: every
/// rebuilt offspring is checked against the content hash the run measured when it scored it.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id", Required = true };
        var version = new Option<long?>("--version") { Description = "population version (acceptances so far); default: the latest" };
        var output = new Option<string>("--out") { Description = "output directory (slot-K/model.safetensors, or model.safetensors with --fused)", Required = true };
        var fused = new Option<bool>("--fused") { Description = "write X(population) (merged mode) or the best member (individual mode) instead of every slot" };
        var fromRecipes = new Option<bool>("--from-recipes") { Description = "ignore population snapshots: rebuild every offspring from recipes" };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("replay", "rebuild a run's population at any version from its starting checkpoints and recipes");
        foreach (var option in new Option[] { run, version, output, fused, fromRecipes, runs })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var summary = Replay(result.GetValue(runs)!, result.GetValue(run)!, result.GetValue(version), result.GetValue(output)!,
                result.GetValue(fused), result.GetValue(fromRecipes));
            Console.WriteLine(JsonSerializer.Serialize(summary));
            return 0;
        }));
        return command;
    }

    /// <summary>One replayed slot: its weight id and the content hash of what was written.</summary>
    internal sealed record ReplayedSlot(int Slot, string WeightsId, string ContentHash);

    internal sealed record ReplaySummary(string Run, long Version, IReadOnlyList<ReplayedSlot> Slots, string? Fused, long Rebuilt);

    internal static ReplaySummary Replay(string runsRoot, string runId, long? version, string output, bool fused, bool fromRecipes)
    {
        var run = RunDirectory.Open(runsRoot, runId);
        if (!File.Exists(run.ConfigPath))
        {
            throw new EvolverException($"run '{runId}' does not exist under {Path.GetFullPath(runsRoot)}");
        }
        var report = JournalAccess.ReadLedgerAsync(run).GetAwaiter().GetResult();
        if (report.Starts.Count == 0)
        {
            throw new EvolverException($"run '{runId}' has not scored its population yet: nothing to replay");
        }
        var target = version ?? report.State.Version;
        if (target < 0 || target > report.State.Version)
        {
            throw new EvolverException($"--version {target} is not a version of run '{runId}': it has versions 0 to {report.State.Version}");
        }
        // The population at the version: the starting members, then every acceptance, admission and retirement up to it.
        var population = report.PopulationAt(target);
        var active = population.ActiveSlots();
        var slots = active.Select(slot => population.SlotWeights[slot]).ToArray();
        var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath));
        var weights = RunWeights.OpenForReading(run, resolved, report, CPU, useSnapshots: !fromRecipes);
        Directory.CreateDirectory(output);
        // Every acceptance up to the version, in order, each set held until its last use: a rebuild from recipes is linear.
        // From recipes alone every set is a rebuild buffer: the working set is reserved first, so buffers are reused
        // rather than freed and faulted in again (snapshots load into sets of their own, so nothing is reserved then).
        var recipes = report.Recipes.Where(a => a.Version <= target && !a.Recipe.IsCoefficients).ToList();
        if (fromRecipes)
        {
            weights.Materializer.Reserve(ReplayPlan.PeakHeld(recipes, slots));
        }
        var held = ReplayPlan.Run(weights.Resident, recipes, slots);
        var leases = slots.Select(id => held[id]).ToList();
        try
        {
            if (fused)
            {
                using var model = RunResult.SearchOutput(report, target, weights) ?? FusedPopulation(resolved, weights, target, slots, leases, population);
                var path = Path.Combine(output, "model.safetensors");
                SafetensorsWriter.Write(path, model.Entries(), Metadata(runId, target, "fused"));
                return new ReplaySummary(runId, target, [], path, weights.Materializer.Rebuilds);
            }
            var written = new List<ReplayedSlot>();
            for (var i = 0; i < slots.Length; i++)
            {
                // Named by ledger slot: a retired slot keeps its number, and is not written.
                var directory = Path.Combine(output, $"slot-{active[i]}");
                Directory.CreateDirectory(directory);
                SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), leases[i].Weights.Entries(), Metadata(runId, target, slots[i]));
                written.Add(new ReplayedSlot(active[i], slots[i], WeightHash.Of(leases[i].Weights)));
            }
            return new ReplaySummary(runId, target, written, null, weights.Materializer.Rebuilds);
        }
        finally
        {
            foreach (var lease in held.Values)
            {
                lease.Dispose();
            }
        }
    }

    /// <summary>X(population) in merged mode, the best member in individual mode, of the population at <paramref name="version"/>.</summary>
    private static WeightSet FusedPopulation(ResolvedRun resolved, RunWeights weights, long version, string[] slots, List<WeightLease> leases, LedgerView population)
    {
        using var fitness = resolved.Fitness(weights: weights)(CPU);
        fitness.Sync(version, [.. slots.Zip(leases.Select(l => l.Weights))], population.MemberKeys());
        return fitness.Fused();
    }

    private static Dictionary<string, string> Metadata(string runId, long version, string weights) => new()
    {
        ["evolver.run"] = runId,
        ["evolver.version"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["evolver.weights"] = weights,
    };
}
