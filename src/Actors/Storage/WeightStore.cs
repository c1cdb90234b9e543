using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// The weight store (docs/architecture.md §3): a directory of safetensors files named by weight id,
/// <c>&lt;dir&gt;/&lt;id&gt;.safetensors</c>. Ids are immutable: a file, once written, is never replaced.
/// Files are written through a temp file that is fsynced and renamed, then the directory is fsynced,
/// so a written id survives a crash and a reader never sees half a file. Thread-safe.
/// </summary>
public sealed class WeightStore
{
    public const string Extension = ".safetensors";

    /// <summary>Opens (creating when needed) the store in <paramref name="directory"/>.</summary>
    public WeightStore(string directory)
    {
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The store's directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>The file that holds (or will hold) weights <paramref name="id"/>; the id is validated.</summary>
    public string PathOf(string id) =>
        Path.Combine(Directory, StoragePaths.RequireValidId(id, "weight id") + Extension);

    public bool Contains(string id) => File.Exists(PathOf(id));

    /// <summary>
    /// Writes <paramref name="weights"/> (any device) as <paramref name="id"/>, durably. When the id is
    /// already stored the file is left as it is (ids are immutable) and false is returned.
    /// <paramref name="metadata"/> goes into the file's <c>__metadata__</c> (lineage, for tools).
    /// </summary>
    public bool Write(string id, WeightSet weights, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var path = PathOf(id);
        if (File.Exists(path))
        {
            return false;
        }
        try
        {
            SafetensorsWriter.Write(path, weights.Entries(), metadata);
        }
        catch (IOException e)
        {
            throw new WeightFileException(id, path, $"cannot be written ({e.Message})", e);
        }
        StoragePaths.SyncDirectory(Directory);
        return true;
    }

    /// <summary>
    /// Loads weights <paramref name="id"/> onto <paramref name="device"/> (CPU when null). A missing,
    /// truncated or malformed file throws <see cref="WeightFileException"/> naming the id and the file.
    /// </summary>
    public WeightSet Load(string id, Device? device = null, bool mapped = false)
    {
        var path = PathOf(id);
        if (!File.Exists(path))
        {
            throw new WeightFileException(id, path, "no such file in the weight store");
        }
        return WeightFileException.Load(id, path, device, mapped);
    }

    /// <summary>Bytes of the stored file (0 when absent).</summary>
    public long SizeOf(string id)
    {
        var info = new FileInfo(PathOf(id));
        return info.Exists ? info.Length : 0;
    }

    /// <summary>
    /// Deletes the temp files that writes interrupted by a crash left behind (<c>.&lt;id&gt;.safetensors.*.tmp</c>)
    /// and returns how many. Call it only while no write can be under way (holding the run lock, at start-up).
    /// </summary>
    public int DeleteTempFiles()
    {
        var count = 0;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, ".*" + Extension + ".*.tmp"))
        {
            File.Delete(path);
            count++;
        }
        return count;
    }

    /// <summary>
    /// Deletes every stored id not in <paramref name="keep"/> and returns how many files and bytes went. Call it only
    /// while no process runs the run (holding the run lock): a running run may still lease a replaced id.
    /// </summary>
    public (int Files, long Bytes) DeleteAllBut(IReadOnlySet<string> keep)
    {
        var (files, bytes) = (0, 0L);
        foreach (var id in Ids().Where(id => !keep.Contains(id)).ToList())
        {
            bytes += SizeOf(id);
            File.Delete(PathOf(id));
            files++;
        }
        if (files > 0)
        {
            StoragePaths.SyncDirectory(Directory);
        }
        return (files, bytes);
    }

    /// <summary>The ids stored, in ordinal order (temp files and foreign names are skipped).</summary>
    public IEnumerable<string> Ids() =>
        System.IO.Directory.EnumerateFiles(Directory, "*" + Extension)
            .Select(p => Path.GetFileName(p)[..^Extension.Length])
            .Where(StoragePaths.IsValidId)
            .Order(StringComparer.Ordinal);
}

/// <summary>A weight file that is missing, truncated or malformed; the message is one line naming id, file and problem.</summary>
public sealed class WeightFileException : EvolverException
{
    public WeightFileException(string id, string path, string problem)
        : base(Format(id, path, problem))
    {
        Id = id;
        Path = path;
        Problem = problem;
    }

    public WeightFileException(string id, string path, string problem, Exception inner)
        : base(Format(id, path, problem), inner)
    {
        Id = id;
        Path = path;
        Problem = problem;
    }

    public string Id { get; }
    public string Path { get; }
    public string Problem { get; }

    private static string Format(string id, string path, string problem) => $"weights '{id}' ({path}): {problem}";

    /// <summary>
    /// Loads the checkpoint at <paramref name="path"/> as weights <paramref name="id"/>; a malformed or unreadable file is
    /// this exception. <paramref name="mapped"/>: on the CPU, map the file in place instead of reading it (read-only weights).
    /// </summary>
    public static WeightSet Load(string id, string path, Device? device, bool mapped = false) =>
        Guarded(id, path, () => mapped && (device is null || device.type == DeviceType.CPU) ? MappedCheckpoint.Open(path) : Checkpoint.Load(path, device));

    /// <summary>As <see cref="Load"/>, on the CPU, into the buffer <paramref name="buffer"/> gives for the checkpoint's layout.</summary>
    public static WeightSet LoadInto(string id, string path, Func<WeightLayout, WeightSet> buffer) =>
        Guarded(id, path, () => Checkpoint.LoadInto(path, buffer));

    /// <summary>The layout of the checkpoint at <paramref name="path"/> (headers only); a malformed or unreadable file is this exception.</summary>
    public static WeightLayout ReadLayout(string id, string path) => Guarded(id, path, () => Checkpoint.ReadLayout(path));

    private static T Guarded<T>(string id, string path, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (CheckpointFormatException e)
        {
            throw new WeightFileException(id, path, e.Problem, e);
        }
        catch (IOException e)
        {
            throw new WeightFileException(id, path, $"cannot be read ({e.Message})", e);
        }
    }
}
