using System.Globalization;
using System.Text.Json;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// A population snapshot's manifest: after <paramref name="Decided"/> decisions (population version
/// <paramref name="Version"/>), the members by slot, and the content hash of every weight id whose file it keeps.
/// </summary>
public sealed record SnapshotManifest(long Decided, long Version, string[] Members, Dictionary<string, string> Hashes);

/// <summary>
/// Population snapshots (docs/architecture.md §3): materialized weights as content-addressed safetensors files
/// (<c>&lt;id&gt;.safetensors</c>, written atomically), and a manifest per snapshot (<c>snapshot-&lt;decided&gt;.json</c>)
/// naming the ids it keeps with their content hashes. A snapshot bounds the rebuild of any member to the recipes after
/// it. Loads are verified against the recorded hash (a file that does not match is passed over, so the weights are
/// rebuilt instead). Superseded snapshots are collected when a new one is complete: the newest two are kept, so a
/// reader that started from the previous manifest still finds its files; within this process a load and a collection
/// never overlap. Under a memory budget a member's weights are also written here when it adopts them (<see cref="Spill"/>),
/// so that they can leave memory and be mapped back from their file; the next snapshot then only names them. Thread-safe.
/// </summary>
public sealed class PopulationSnapshots
{
    private const string ManifestPrefix = "snapshot-";
    private const int Kept = 2;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly object _gate = new();
    private readonly WeightStore _files;
    private readonly Dictionary<string, string> _hashes = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];
    private readonly HashSet<string> _verified = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _spilled = new(StringComparer.Ordinal); // id → population version that adopted it
    private long _bytesWritten;

    public PopulationSnapshots(string directory)
    {
        _files = new WeightStore(directory);
        ReadManifests();
    }

    /// <summary>
    /// True on a worker node, whose snapshots are written by the coordinator's process: an id it does not know sends it
    /// to the directory's manifests again (a snapshot written since) before it gives up (docs/architecture.md §4).
    /// </summary>
    public bool WrittenElsewhere { get; init; }

    /// <summary>
    /// On a worker without the run directory: brings the verified file of an id this directory lacks, with a manifest
    /// naming it, from the coordinator (true when it did); null where the directory is the run's own
    /// (docs/architecture.md §4, "Weights beside the cluster").
    /// </summary>
    public Func<string, bool>? FetchMissing { get; init; }

    private void ReadManifests()
    {
        foreach (var manifest in Manifests())
        {
            foreach (var (id, hash) in manifest.Hashes)
            {
                _hashes.TryAdd(id, hash);
            }
        }
    }

    public string Directory => _files.Directory;

    /// <summary>Bytes of weight files this instance has written (benchmarks).</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Files that failed verification, one line each (reported, then rebuilt from recipes).</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_gate)
            {
                return [.. _problems];
            }
        }
    }

    /// <summary>The newest complete snapshot, or null.</summary>
    public SnapshotManifest? Latest() => Manifests().LastOrDefault();

    /// <summary>Whether a verified file of <paramref name="id"/> is kept.</summary>
    public bool Contains(string id)
    {
        lock (_gate)
        {
            return _hashes.ContainsKey(id) && _files.Contains(id);
        }
    }

    /// <summary>
    /// Weights <paramref name="id"/> from a snapshot, verified; null when no snapshot keeps them (or its file is damaged).
    /// <paramref name="mapped"/>: map the file in place (CPU, read-only) instead of reading it; a file is verified once per
    /// process (it is content-addressed and written atomically, so it cannot change under a reader that verified it).
    /// </summary>
    public WeightSet? TryLoad(string id, Device device, bool mapped = false)
    {
        if (FetchMissing is { } fetch && !Contains(id))
        {
            fetch(id); // outside the lock: a download must not hold up the loads of files that are here
        }
        lock (_gate)
        {
            if (WrittenElsewhere && !_hashes.ContainsKey(id))
            {
                ReadManifests();
            }
            if (!_hashes.TryGetValue(id, out var expected) || !_files.Contains(id))
            {
                return null;
            }
            WeightSet weights;
            try
            {
                weights = _files.Load(id, device, mapped);
            }
            catch (WeightFileException e)
            {
                _problems.Add(e.Message);
                return null;
            }
            if (mapped && weights.IsMapped && _verified.Contains(id))
            {
                return weights;
            }
            var actual = WeightHash.Of(weights);
            if (actual == expected)
            {
                _verified.Add(id);
                return weights;
            }
            weights.Dispose();
            _problems.Add($"weights '{id}' ({_files.PathOf(id)}): content hash {actual} differs from the snapshot's {expected}; rebuilt from the recipe instead");
            _hashes.Remove(id);
            return null;
        }
    }

    /// <summary>
    /// Writes the file of weights <paramref name="id"/> (content hash <paramref name="hash"/>, measured when null) unless it
    /// is kept already, so that they can be mapped back after leaving memory. A spilled file survives collection until a
    /// snapshot of population version <paramref name="version"/> (the one that adopted it) or later, which keeps it if
    /// the population still needs it: a snapshot of an earlier version, written meanwhile, cannot know it.
    /// </summary>
    public void Spill(string id, WeightSet weights, long version, string? hash = null)
    {
        lock (_gate)
        {
            if (_hashes.ContainsKey(id) && _files.Contains(id))
            {
                _spilled[id] = Math.Max(version, _spilled.GetValueOrDefault(id, version));
                return;
            }
        }
        hash ??= WeightHash.Of(weights);
        _files.Write(id, weights, new Dictionary<string, string> { ["evolver.content-hash"] = hash });
        Interlocked.Add(ref _bytesWritten, _files.SizeOf(id));
        lock (_gate)
        {
            _hashes[id] = hash;
            _verified.Add(id);
            _spilled[id] = version;
        }
    }

    /// <summary>
    /// Writes a snapshot: the file of every id in <paramref name="keep"/> not stored yet (obtained through
    /// <paramref name="acquire"/>), then the manifest, atomically; then collects what no kept snapshot needs.
    /// </summary>
    public SnapshotManifest Write(long decided, long version, IReadOnlyList<string> members, IReadOnlyCollection<string> keep, Func<string, WeightLease> acquire)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in keep.Distinct(StringComparer.Ordinal))
        {
            string? known;
            lock (_gate)
            {
                known = _hashes.GetValueOrDefault(id);
            }
            if (known is not null && _files.Contains(id))
            {
                hashes[id] = known;
                continue;
            }
            using var lease = acquire(id);
            var hash = WeightHash.Of(lease.Weights);
            _files.Write(id, lease.Weights, new Dictionary<string, string> { ["evolver.content-hash"] = hash });
            Interlocked.Add(ref _bytesWritten, _files.SizeOf(id));
            hashes[id] = hash;
            lock (_gate)
            {
                _hashes[id] = hash;
            }
        }
        var manifest = new SnapshotManifest(decided, version, [.. members], hashes);
        StoragePaths.WriteTextAtomically(ManifestPath(decided), JsonSerializer.Serialize(manifest, Json));
        lock (_gate)
        {
            // The new manifest names the spilled files its population still needs; the others adopted by then may go now.
            foreach (var covered in _spilled.Where(s => s.Value <= version).Select(s => s.Key).ToList())
            {
                _spilled.Remove(covered);
            }
        }
        Collect();
        return manifest;
    }

    /// <summary>Deletes manifests older than the newest two, and weight files none of those two keeps (nor spilled since).</summary>
    private void Collect()
    {
        lock (_gate)
        {
            var manifests = ManifestPaths().ToList();
            foreach (var old in manifests.SkipLast(Kept))
            {
                File.Delete(old);
            }
            var needed = manifests.TakeLast(Kept).Select(ReadManifest).OfType<SnapshotManifest>()
                .SelectMany(m => m.Hashes.Keys).ToHashSet(StringComparer.Ordinal);
            needed.UnionWith(_spilled.Keys);
            foreach (var id in _files.Ids().Where(id => !needed.Contains(id)).ToList())
            {
                File.Delete(_files.PathOf(id));
                _hashes.Remove(id);
                _verified.Remove(id);
            }
            StoragePaths.SyncDirectory(Directory);
        }
    }

    /// <summary>The file name of the manifest of the snapshot after <paramref name="decided"/> decisions.</summary>
    public static string ManifestFileName(long decided) => ManifestPrefix + decided.ToString("D12", CultureInfo.InvariantCulture) + ".json";

    /// <summary>The manifests kept in <paramref name="directory"/>, oldest first, with their paths (unreadable ones are left out).</summary>
    public static IReadOnlyList<(string Path, SnapshotManifest Manifest)> KeptIn(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }
        var kept = new List<(string, SnapshotManifest)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(directory, ManifestPrefix + "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                if (JsonSerializer.Deserialize<SnapshotManifest>(File.ReadAllText(path)) is { } manifest)
                {
                    kept.Add((path, manifest));
                }
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // collected or damaged meanwhile: not listed
            }
        }
        return kept;
    }

    /// <summary>Writes <paramref name="manifest"/> into <paramref name="directory"/> (atomically), as <see cref="Write"/> does.</summary>
    public static void WriteManifest(string directory, SnapshotManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        StoragePaths.WriteTextAtomically(Path.Combine(directory, ManifestFileName(manifest.Decided)), JsonSerializer.Serialize(manifest, Json), durable: false);
    }

    private string ManifestPath(long decided) => Path.Combine(Directory, ManifestFileName(decided));

    private IEnumerable<string> ManifestPaths() =>
        System.IO.Directory.EnumerateFiles(Directory, ManifestPrefix + "*.json").Order(StringComparer.Ordinal);

    private IEnumerable<SnapshotManifest> Manifests() => ManifestPaths().Select(ReadManifest).OfType<SnapshotManifest>();

    /// <summary>A manifest, or null when it cannot be read (a damaged snapshot is passed over, never trusted).</summary>
    private SnapshotManifest? ReadManifest(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<SnapshotManifest>(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            lock (_gate)
            {
                _problems.Add($"snapshot manifest {path} cannot be read ({e.Message}); passed over");
            }
            return null;
        }
    }
}
