using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Run;

/// <summary>What <c>evolver prune</c> removed and kept.</summary>
internal sealed record PruneResult(string RunId, int Removed, long RemovedBytes, int Kept, long KeptBytes, int TempFiles = 0, long TempBytes = 0);

/// <summary>
/// Frees a stopped run's disk: every accepted offspring is a whole model in the weight store, kept so far as history,
/// but only the current population is needed to resume or export. The journal (and so the lineage, with each
/// offspring's recipe) is left whole.
/// </summary>
internal static class RunPruning
{
    /// <summary>Takes the run lock (refused while a live process runs it), reads the ledger, then prunes.</summary>
    public static async Task<PruneResult> PruneAsync(string runsRoot, string runId)
    {
        var run = RunDirectory.Open(runsRoot, runId);
        if (!Directory.Exists(run.WeightsPath))
        {
            throw new EvolverException($"run '{runId}' has no weight store under {Path.GetFullPath(run.Root)}: nothing to prune (runs keep recipes "
                + "in their journal and collect superseded snapshots while they run; prune is for runs made by older versions)");
        }
        using var runLock = run.AcquireLock();
        // No process runs it now: temp files are leftovers of writes a crash interrupted (docs/architecture.md §3).
        var (tempFiles, tempBytes) = StoragePaths.DeleteTempFiles(run.Root);
        return Prune(run, await JournalAccess.ReadLedgerAsync(run).ConfigureAwait(false)) with { TempFiles = tempFiles, TempBytes = tempBytes };
    }

    /// <summary>
    /// Deletes every weight file but <paramref name="ledger"/>'s current population. The caller holds the run lock
    /// and read the ledger after the run last stopped.
    /// </summary>
    public static PruneResult Prune(RunDirectory run, LedgerReport ledger)
    {
        if (!ledger.State.Initialized)
        {
            throw new EvolverException($"run '{run.RunId}' has not scored its population yet: nothing to prune");
        }
        var store = run.Weights;
        var keep = ledger.State.SlotWeights.ToHashSet(StringComparer.Ordinal);
        var missing = keep.Where(id => !store.Contains(id)).ToList();
        if (missing.Count > 0)
        {
            throw new EvolverException($"run '{run.RunId}': the current population's weights {string.Join(", ", missing)} are missing from "
                + $"{run.WeightsPath}; nothing was pruned");
        }
        var (removed, removedBytes) = store.DeleteAllBut(keep);
        return new PruneResult(run.RunId, removed, removedBytes, keep.Count, keep.Sum(store.SizeOf));
    }
}
