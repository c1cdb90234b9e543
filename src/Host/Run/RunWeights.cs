using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Operators;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// Where a run's weights come from (docs/architecture.md §3): the starting checkpoints in place, by content address
/// (<c>m-</c> and the first 32 hex digits of the checkpoint's SHA-256, checked at every start by the fingerprint), the
/// run's population snapshots, the weight store of runs made before recipes, and the recipes in the journal.
/// </summary>
internal sealed record RunWeights(ResidentWeights Resident, IReadOnlyList<string> InitialIds, RecipeBook Book, PopulationSnapshots Snapshots, WeightMaterializer Materializer)
{
    public const string SnapshotsDirectoryName = "snapshots";

    /// <summary>The weight id of a starting member with checkpoint SHA-256 <paramref name="sha256"/>.</summary>
    public static string StartingId(string sha256) => "m-" + sha256[..32].ToLowerInvariant();

    /// <summary>
    /// Opens the weights of <paramref name="run"/>: its starting ids come from the fingerprint's content hashes (an older
    /// run's ledger names <c>init-N</c> files of its weight store instead, which stay readable). A <c>worker</c> node
    /// reads snapshots that the coordinator's process writes (docs/architecture.md §4).
    /// </summary>
    public static RunWeights Open(RunDirectory run, RunPopulation population, RunFingerprint fingerprint, RunSettings settings, Device device, bool useSnapshots = true,
        bool worker = false) =>
        Open(run.Root, run.ConfigPath, population, fingerprint, settings, device, useSnapshots, worker);

    /// <summary>
    /// As <see cref="Open(RunDirectory, RunPopulation, RunFingerprint, RunSettings, Device, bool, bool)"/>, with the snapshots
    /// under <paramref name="root"/> (a run directory, or a worker's node directory whose snapshots
    /// <paramref name="fetchSnapshot"/> brings from the coordinator; docs/architecture.md §4); <paramref name="source"/>
    /// is what a memory budget that is too small is reported against (a config file).
    /// </summary>
    public static RunWeights Open(string root, string source, RunPopulation population, RunFingerprint fingerprint, RunSettings settings, Device device,
        bool useSnapshots = true, bool worker = false, Func<string, bool>? fetchSnapshot = null)
    {
        var initial = fingerprint.Members.Select(m => StartingId(m.Sha256)).ToList();
        var checkpoints = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var slot = 0; slot < initial.Count; slot++)
        {
            checkpoints.TryAdd(initial[slot], population.Members[slot]);
        }
        var book = new RecipeBook();
        var snapshots = new PopulationSnapshots(Path.Combine(root, SnapshotsDirectoryName)) { WrittenElsewhere = worker, FetchMissing = fetchSnapshot };
        var weightsPath = Path.Combine(root, RunDirectory.WeightsDirectoryName);
        var legacy = Directory.Exists(weightsPath) ? new WeightStore(weightsPath) : null;
        // Under a memory budget members and snapshots are mapped in place and the cache gets what the candidates leave.
        var budgeted = settings.MaxResidentBytes > 0 && device.type == DeviceType.CPU;
        var materializer = new WeightMaterializer(checkpoints, book, name => OperatorRegistry.Get(name, settings.OperatorParameters), useSnapshots ? snapshots : null, legacy,
            mapped: budgeted);
        var cacheBytes = MemoryBudget.CacheBytes(settings, population, source);
        return new RunWeights(new ResidentWeights(materializer, device, cacheBytes), initial, book, snapshots, materializer);
    }

    /// <summary>
    /// Opens the weights of an existing run for reading (export, replay), after checking that the starting checkpoints
    /// are still the ones the run recorded (their content hashes), and learns every recipe of <paramref name="report"/>.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="resolved">Its configuration, resolved.</param>
    /// <param name="report">Its ledger.</param>
    /// <param name="device">Where the weights go.</param>
    /// <param name="useSnapshots">False: every offspring is rebuilt from recipes (what `replay --from-recipes` checks).</param>
    public static RunWeights OpenForReading(RunDirectory run, ResolvedRun resolved, LedgerReport report, Device device, bool useSnapshots = true)
    {
        var current = resolved.Fingerprint();
        var recorded = run.ReadFingerprint() ?? throw new Tensors.EvolverException($"{run}: run.json is missing: this is not a run directory");
        for (var slot = 0; slot < Math.Min(recorded.Members.Count, current.Members.Count); slot++)
        {
            if (!recorded.Members[slot].SameAs(current.Members[slot]))
            {
                throw new Tensors.EvolverException($"{run}: starting member {slot} ({resolved.Population.Members[slot]}) is not the checkpoint the run started from "
                    + $"(sha256 {current.Members[slot].Sha256[..12]}…, recorded {recorded.Members[slot].Sha256[..12]}…)");
            }
        }
        var weights = Open(run, resolved.Population, recorded, resolved.Config.Settings, device, useSnapshots);
        weights.Learn(report);
        return weights;
    }

    /// <summary>Adds every recipe a ledger has (to materialize any member of a finished or stopped run).</summary>
    public void Learn(LedgerReport report)
    {
        foreach (var accepted in report.Recipes)
        {
            Book.Add(accepted.WeightsId, accepted.Recipe, accepted.ContentHash);
        }
    }
}
