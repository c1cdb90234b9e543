using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// Writes a Hugging Face checkpoint tensor by tensor, so that a model larger than memory can be written while it is
/// computed: <c>model.safetensors</c>, or, when the data exceeds the shard size, <c>model-00001-of-0000N.safetensors</c>
/// filled greedily in the order of the specs (a tensor larger than the limit gets a shard of its own, as
/// huggingface_hub's split_torch_state_dict_into_shards does) plus <c>model.safetensors.index.json</c>
/// (<c>weight_map</c>, <c>metadata.total_size</c>). Every name, shape and dtype is known up front, so each file's
/// header is written first and each tensor's bytes go straight to their place (<see cref="SafetensorsStreamWriter"/>);
/// the files are byte for byte what <see cref="SafetensorsWriter"/> writes for the same tensors.
/// Nothing replaces an earlier checkpoint in the directory until <see cref="Commit"/>; disposing an uncommitted
/// writer deletes its temp files, and the output directory too when this writer created it and it is left empty.
/// </summary>
public sealed class CheckpointWriter : IDisposable
{
    private readonly string _dir;
    private readonly string? _createdRoot;
    private readonly IReadOnlyList<TensorSpec> _specs;
    private readonly IReadOnlyDictionary<string, string>? _metadata;
    private readonly bool _durable;
    private readonly List<List<TensorSpec>> _shards;
    private readonly Dictionary<string, int> _shardOf;
    private readonly SafetensorsStreamWriter?[] _open;
    private readonly bool[] _finished;
    private bool _committed;
    private bool _disposed;

    /// <param name="dir">The checkpoint directory (created when missing).</param>
    /// <param name="specs">Every tensor the checkpoint will hold, in the order shards are filled.</param>
    /// <param name="metadata">Goes into every file's <c>__metadata__</c>.</param>
    /// <param name="maxShardBytes">The largest data size of one file before the checkpoint is sharded.</param>
    /// <param name="durable">Whether files are fsynced before they are renamed into place.</param>
    public CheckpointWriter(
        string dir,
        IReadOnlyList<TensorSpec> specs,
        IReadOnlyDictionary<string, string>? metadata = null,
        long maxShardBytes = long.MaxValue,
        bool durable = true)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        _ = SafetensorsWriter.InFileOrder(specs); // names, duplicates and dtypes, before anything is created
        _dir = Path.GetFullPath(dir);
        _specs = specs;
        _metadata = metadata;
        _durable = durable;
        _shards = Split(specs, maxShardBytes);
        _shardOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _shards.Count; i++)
        {
            _shards[i].ForEach(s => _shardOf[s.Name] = i);
        }
        _open = new SafetensorsStreamWriter?[_shards.Count];
        _finished = new bool[_shards.Count];
        _createdRoot = TopmostMissing(_dir);
        try
        {
            Directory.CreateDirectory(_dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvolverException($"{dir}: cannot create the checkpoint directory: {e.Message}");
        }
        Files = _shards.Count <= 1
            ? [Path.Combine(_dir, Checkpoint.SingleFileName)]
            : [.. Enumerable.Range(1, _shards.Count).Select(i => Path.Combine(_dir, ShardIndex.ShardFileName(i, _shards.Count))),
               Path.Combine(_dir, Checkpoint.IndexFileName)];
    }

    /// <summary>The files <see cref="Commit"/> writes: model.safetensors, or the shards and the index (last).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Bytes of tensor data over all files (the index's <c>metadata.total_size</c>).</summary>
    public long TotalBytes => _specs.Sum(SafetensorsWriter.DataBytes);

    /// <summary>
    /// Writes one tensor (any device; the caller keeps it). Its shard file is opened on its first tensor and
    /// finished (fsynced, closed) on its last, so at most the shards being filled are open.
    /// </summary>
    public void Write(string name, Tensor tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("the checkpoint is already committed");
        }
        if (!_shardOf.TryGetValue(name, out var shard))
        {
            throw new EvolverException($"{_dir}: tensor '{name}' is not one of the tensors this checkpoint was laid out for");
        }
        var writer = _finished[shard] ? throw new EvolverException($"{_dir}: tensor '{name}' is written twice") : Open(shard);
        writer.Write(name, tensor);
        if (writer.IsComplete)
        {
            writer.Finish();
            _finished[shard] = true;
        }
    }

    /// <summary>
    /// Once every tensor is written, puts the checkpoint in place as <see cref="Checkpoint.Save"/> always has: a
    /// single file is renamed over model.safetensors and then a stale index and shards are removed; shards go in
    /// after the old index is deleted, the new index is written last, then a stale model.safetensors and shards are
    /// removed. A crash part-way leaves the old checkpoint or no index, never an index over a mix of old and new
    /// shards. Returns <see cref="Files"/>.
    /// </summary>
    public IReadOnlyList<string> Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            return Files;
        }
        for (var i = 0; i < _shards.Count; i++)
        {
            Open(i).Finish(); // an empty shard list (no tensors) still gets its file; a missing tensor fails here
            _finished[i] = true;
        }
        var indexPath = Path.Combine(_dir, Checkpoint.IndexFileName);
        if (_shards.Count <= 1)
        {
            _open[0]!.Publish();
            // The new file is complete before the old index goes: a crash never leaves no checkpoint.
            DeleteStale(keep: []);
        }
        else
        {
            // Old shards are about to be replaced: drop their index first. An old model.safetensors stays readable
            // until the new index is complete (Open prefers it, so it is removed right after).
            File.Delete(indexPath);
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (writer, i) in _open.Select((w, i) => (w!, i)))
            {
                writer.Publish();
                _shards[i].ForEach(s => weightMap[s.Name] = Path.GetFileName(writer.Path));
            }
            ShardIndex.Write(indexPath, TotalBytes, weightMap);
            File.Delete(Path.Combine(_dir, Checkpoint.SingleFileName));
            DeleteStale(keep: [.. Files.SkipLast(1).Select(Path.GetFileName)!]);
        }
        _committed = true;
        return Files;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var writer in _open)
        {
            writer?.Dispose();
        }
        if (!_committed && _createdRoot is not null)
        {
            RemoveEmpty(_dir, _createdRoot);
        }
    }

    private SafetensorsStreamWriter Open(int shard)
    {
        if (_open[shard] is { } open)
        {
            return open;
        }
        var path = _shards.Count <= 1 ? Files[0] : Files[shard];
        try
        {
            return _open[shard] = new SafetensorsStreamWriter(path, _shards[shard], _metadata, _durable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvolverException($"{_dir}: cannot write the checkpoint there: {e.Message}");
        }
    }

    /// <summary>Greedy split in spec order, as huggingface_hub's split_torch_state_dict_into_shards.</summary>
    internal static List<List<TensorSpec>> Split(IReadOnlyList<TensorSpec> specs, long maxShardBytes)
    {
        var shards = new List<List<TensorSpec>>();
        var current = new List<TensorSpec>();
        long size = 0;
        foreach (var spec in specs)
        {
            var bytes = SafetensorsWriter.DataBytes(spec);
            if (current.Count > 0 && size + bytes > maxShardBytes)
            {
                shards.Add(current);
                (current, size) = ([], 0);
            }
            current.Add(spec);
            size += bytes;
        }
        if (current.Count > 0 || shards.Count == 0)
        {
            shards.Add(current);
        }
        return shards;
    }

    private void DeleteStale(IReadOnlyCollection<string> keep)
    {
        if (keep.Count == 0)
        {
            File.Delete(Path.Combine(_dir, Checkpoint.IndexFileName));
        }
        foreach (var path in Directory.EnumerateFiles(_dir, "model-*-of-*.safetensors"))
        {
            var name = Path.GetFileName(path);
            if (ShardIndex.IsShardFileName(name) && !keep.Contains(name))
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>The outermost directory of <paramref name="dir"/>'s ancestors (or itself) that does not exist yet, or null.</summary>
    private static string? TopmostMissing(string dir)
    {
        string? missing = null;
        for (var d = dir; d is not null && !Directory.Exists(d) && !File.Exists(d); d = Path.GetDirectoryName(d))
        {
            missing = d;
        }
        return missing;
    }

    /// <summary>Removes the directories this writer created, innermost first, as long as they are empty (best effort).</summary>
    private static void RemoveEmpty(string dir, string root)
    {
        for (var d = dir; d is not null; d = Path.GetDirectoryName(d))
        {
            try
            {
                if (!Directory.Exists(d) || Directory.EnumerateFileSystemEntries(d).Any())
                {
                    return;
                }
                Directory.Delete(d);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
            if (d == root)
            {
                return;
            }
        }
    }
}
