using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Checkpoints;

namespace EvolverActors.Host.Files;

/// <summary>
/// What the coordinator's file server may hand out, by content hash only (docs/architecture.md §4): the files of the
/// starting members, and the run's fingerprint and population snapshots (FileCatalog.Run.cs). A single-file member's
/// file hash is its member hash (already measured by the fingerprint); the files of a sharded member are hashed on its
/// first listing. Nothing outside the catalog can be named. Thread-safe.
/// </summary>
internal sealed partial class FileCatalog
{
    private readonly Dictionary<string, Lazy<(MemberListing Listing, IReadOnlyDictionary<string, string> Paths)>> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <param name="members">Each starting member's checkpoint SHA-256 (as in <c>run.json</c>) and its path here.</param>
    public FileCatalog(IEnumerable<(string Sha256, string Path)> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        foreach (var (sha256, path) in members)
        {
            var key = sha256.ToLowerInvariant();
            _members.TryAdd(key, new Lazy<(MemberListing, IReadOnlyDictionary<string, string>)>(() => List(key, path)));
        }
    }

    /// <summary>The listing of the member with checkpoint hash <paramref name="sha256"/>, or null for any other hash.</summary>
    public MemberListing? Listing(string sha256)
    {
        if (!_members.TryGetValue(sha256, out var member))
        {
            return null;
        }
        var (listing, paths) = member.Value;
        lock (_gate)
        {
            foreach (var (hash, path) in paths)
            {
                _files.TryAdd(hash, path);
            }
        }
        return listing;
    }

    /// <summary>The local path of the file with SHA-256 <paramref name="sha256"/>, or null when the catalog has none (or it was not listed yet).</summary>
    public string? PathOf(string sha256)
    {
        lock (_gate)
        {
            if (_files.TryGetValue(sha256, out var path))
            {
                return path;
            }
        }
        // A single-file member is its own file: fetchable by its hash without a listing first.
        return _members.ContainsKey(sha256) && Listing(sha256) is { Files: [var only] } && only.Sha256 == sha256 ? PathOf(only.Sha256) : null;
    }

    private static (MemberListing, IReadOnlyDictionary<string, string>) List(string sha256, string path)
    {
        var (index, shards) = Layout(path);
        if (index is null)
        {
            var single = new MemberFile(Checkpoint.SingleFileName, sha256, new FileInfo(shards[0]).Length);
            return (new MemberListing(sha256, [single]), new Dictionary<string, string> { [sha256] = shards[0] });
        }
        var files = new List<MemberFile>();
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, file) in shards.Select(s => (Path.GetFileName(s), s)).Append((Checkpoint.IndexFileName, index)))
        {
            var hash = RunFingerprint.Sha256OfFiles([file]);
            files.Add(new MemberFile(name, hash, new FileInfo(file).Length));
            paths.TryAdd(hash, file);
        }
        return (new MemberListing(sha256, files), paths);
    }

    /// <summary>A checkpoint's index file (null for a single file) and its .safetensors files in hash order.</summary>
    private static (string? Index, IReadOnlyList<string> Files) Layout(string path)
    {
        IReadOnlyList<string> files;
        using (var reader = Checkpoint.Open(path))
        {
            files = reader.Files;
        }
        var index = Directory.Exists(path)
            ? File.Exists(Path.Combine(path, Checkpoint.SingleFileName)) ? null : Path.Combine(path, Checkpoint.IndexFileName)
            : path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? path : null;
        return (index, files);
    }
}
