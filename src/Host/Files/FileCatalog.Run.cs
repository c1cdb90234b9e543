using System.Collections.Concurrent;
using EvolverActors.Actors.Storage;

namespace EvolverActors.Host.Files;

/// <summary>
/// The run's own files a node without the run directory needs (docs/architecture.md §4): its fingerprint and the
/// population snapshots the coordinator keeps. Snapshots are read from their directory on every listing, so the ones
/// written while the run runs are listed as soon as their manifest is; a file's SHA-256 is measured once (a weight id's
/// file never changes) and only files listed so can be fetched.
/// </summary>
internal sealed partial class FileCatalog
{
    private readonly ConcurrentDictionary<string, (string Sha256, long Bytes)> _snapshotHashes = new(StringComparer.Ordinal);

    /// <summary>The run's <c>run.json</c> (null: not served).</summary>
    public string? FingerprintPath { get; init; }

    /// <summary>The run's snapshot directory (null: no snapshots served).</summary>
    public string? SnapshotsDirectory { get; init; }

    /// <summary>The snapshots kept now, each with its files; a snapshot being collected while it is listed is left out.</summary>
    public SnapshotListing Snapshots()
    {
        if (SnapshotsDirectory is not { } directory)
        {
            return new SnapshotListing([]);
        }
        var entries = new List<SnapshotEntry>();
        foreach (var (_, manifest) in PopulationSnapshots.KeptIn(directory))
        {
            try
            {
                var files = manifest.Hashes.Keys.Order(StringComparer.Ordinal).Select(id => SnapshotFileOf(directory, id)).ToList();
                entries.Add(new SnapshotEntry(manifest, files));
            }
            catch (IOException)
            {
                // a file of it was collected meanwhile (a newer snapshot is complete): the newer one is listed instead
            }
        }
        return new SnapshotListing(entries);
    }

    private SnapshotFile SnapshotFileOf(string directory, string id)
    {
        var path = Path.Combine(directory, StoragePaths.RequireValidId(id, "weight id") + WeightStore.Extension);
        var (sha256, bytes) = _snapshotHashes.GetOrAdd(id, _ => (RunFingerprint.Sha256OfFiles([path]), new FileInfo(path).Length));
        lock (_gate)
        {
            _files.TryAdd(sha256, path);
        }
        return new SnapshotFile(id, sha256, bytes);
    }
}
