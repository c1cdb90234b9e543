using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Files;

/// <summary>
/// A worker's copy of the coordinator's population snapshots, for a node without the run directory
/// (docs/architecture.md §4): when the node needs weights it has no file of, this asks the coordinator's file server which
/// snapshots it keeps, fetches that id's file by its SHA-256 through <see cref="WeightFetcher"/> (resumed, verified, kept
/// only once its bytes match) and writes the snapshot's manifest beside it, so that <see cref="PopulationSnapshots"/>
/// loads it and checks the weights' content hash as for any snapshot. Bytes that differ from their hash are refused
/// with one line and never fetched again; the weights are then rebuilt from recipes. Snapshots the coordinator no
/// longer keeps are dropped here too. Thread-safe (one fetch at a time).
/// </summary>
internal sealed class SnapshotMirror(WeightFetcher fetcher, string directory, Action<string> say)
{
    /// <summary>How long a listing is used before the server is asked again.</summary>
    private static readonly TimeSpan ListingAge = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private readonly HashSet<string> _said = new(StringComparer.Ordinal);
    private SnapshotListing? _listing;
    private DateTime _listedAt;
    private long _fetched;

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>Snapshot files fetched so far.</summary>
    public long Fetched => Interlocked.Read(ref _fetched);

    /// <summary>Brings the file of weights <paramref name="id"/> and a manifest naming it; false when the coordinator keeps none (or it was refused).</summary>
    public bool Fetch(string id)
    {
        lock (_gate)
        {
            try
            {
                return FetchLocked(id);
            }
            catch (EvolverException e)
            {
                if (_said.Add(e.Message))
                {
                    say(e.Message); // the server gone or refusing: once per cause; the weights come from recipes meanwhile
                }
                return false;
            }
        }
    }

    private bool FetchLocked(string id)
    {
        // Most misses are ids no snapshot keeps (starting members, children of known recipes): the listing is asked for
        // at most once a second, and a snapshot younger than that is not needed yet (its recipes are still kept).
        if (Find(id, Listing()) is not var (entry, file) || _refused.Contains(file.Sha256))
        {
            return false;
        }
        var destination = Path.Combine(Directory, id + WeightStore.Extension);
        System.IO.Directory.CreateDirectory(Directory);
        try
        {
            if (fetcher.FetchFileAsync(file.Sha256, file.Bytes, destination).GetAwaiter().GetResult() > 0)
            {
                Interlocked.Increment(ref _fetched);
            }
        }
        catch (EvolverException e) when (e.Message.Contains(": refused: ", StringComparison.Ordinal))
        {
            _refused.Add(file.Sha256);
            say($"snapshot {entry.Manifest.Decided}: {e.Message}; weights '{id}' are rebuilt from recipes instead");
            return false;
        }
        if (!File.Exists(Path.Combine(Directory, PopulationSnapshots.ManifestFileName(entry.Manifest.Decided))))
        {
            PopulationSnapshots.WriteManifest(Directory, entry.Manifest);
        }
        DropWhatTheCoordinatorDropped(_listing!);
        return true;
    }

    private SnapshotListing Listing()
    {
        if (_listing is null || DateTime.UtcNow - _listedAt > ListingAge)
        {
            _listedAt = DateTime.UtcNow;
            _listing = new SnapshotListing([]); // what a failed request leaves until the next try
            _listing = fetcher.SnapshotsAsync().GetAwaiter().GetResult();
        }
        return _listing;
    }

    /// <summary>The newest snapshot that keeps <paramref name="id"/>, with its file, or null.</summary>
    private static (SnapshotEntry, SnapshotFile)? Find(string id, SnapshotListing listing)
    {
        foreach (var entry in listing.Snapshots.Reverse())
        {
            if (entry.Manifest.Hashes.ContainsKey(id) && entry.Files.FirstOrDefault(f => f.Id == id) is { } file)
            {
                return (entry, file);
            }
        }
        return null;
    }

    /// <summary>Deletes the manifests of snapshots the coordinator no longer lists, and the files no manifest left here names.</summary>
    private void DropWhatTheCoordinatorDropped(SnapshotListing listing)
    {
        var listed = listing.Snapshots.Select(s => PopulationSnapshots.ManifestFileName(s.Manifest.Decided)).ToHashSet(StringComparer.Ordinal);
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, manifest) in PopulationSnapshots.KeptIn(Directory))
        {
            if (listed.Contains(Path.GetFileName(path)))
            {
                kept.UnionWith(manifest.Hashes.Keys);
            }
            else
            {
                File.Delete(path);
            }
        }
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + WeightStore.Extension))
        {
            if (!kept.Contains(Path.GetFileName(path)[..^WeightStore.Extension.Length]))
            {
                File.Delete(path); // a reader that has it open or mapped keeps its bytes (Unix)
            }
        }
    }
}
