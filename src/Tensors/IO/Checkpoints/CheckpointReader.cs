using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// An open checkpoint: one .safetensors file, or the shards named by a Hugging Face index.
/// Only headers are read up front; tensors are read one at a time.
/// </summary>
public sealed class CheckpointReader : IDisposable
{
    private readonly SafetensorsFile[] _files;
    private readonly Dictionary<string, SafetensorsFile> _owner;

    private CheckpointReader(string path, SafetensorsFile[] files, IReadOnlyList<(TensorSpec Spec, SafetensorsFile File)> tensors)
    {
        Path = path;
        _files = files;
        _owner = tensors.ToDictionary(t => t.Spec.Name, t => t.File, StringComparer.Ordinal);
        Specs = [.. tensors.Select(t => t.Spec)];
    }

    /// <summary>
    /// Opens a .safetensors file, a model.safetensors.index.json, or a directory holding either
    /// (model.safetensors is preferred, as transformers prefers it).
    /// </summary>
    public static CheckpointReader Open(string path)
    {
        if (Directory.Exists(path))
        {
            var single = System.IO.Path.Combine(path, Checkpoint.SingleFileName);
            var index = System.IO.Path.Combine(path, ShardIndex.FileName);
            return File.Exists(single) ? OpenSingle(single)
                : File.Exists(index) ? OpenSharded(index)
                : throw new CheckpointFormatException(path, $"directory has neither {Checkpoint.SingleFileName} nor {ShardIndex.FileName}");
        }
        if (!File.Exists(path))
        {
            throw new CheckpointFormatException(path, "no such file or directory");
        }
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenSharded(path) : OpenSingle(path);
    }

    /// <summary>The path the checkpoint was opened from.</summary>
    public string Path { get; }

    /// <summary>The .safetensors files read (one, or the shards in name order).</summary>
    public IReadOnlyList<string> Files => [.. _files.Select(f => f.Path)];

    /// <summary>Tensor specs: shards in name order, tensors in file order within each.</summary>
    public IReadOnlyList<TensorSpec> Specs { get; }

    public WeightLayout Layout => new(Specs);

    /// <summary>The <c>__metadata__</c> of the (first) file.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _files.Length > 0 ? _files[0].Metadata : new Dictionary<string, string>();

    /// <summary>Bytes of tensor data over all files.</summary>
    public long DataBytes => _files.Sum(f => f.DataBytes);

    public bool Contains(string name) => _owner.ContainsKey(name);

    /// <summary>The open file that holds tensor <paramref name="name"/>.</summary>
    public SafetensorsFile FileOf(string name) =>
        _owner.TryGetValue(name, out var file) ? file : throw new CheckpointFormatException(Path, $"no tensor named '{name}' in this checkpoint");

    /// <summary>Reads one tensor into a new CPU tensor; the caller owns it.</summary>
    public Tensor ReadTensor(string name) =>
        _owner.TryGetValue(name, out var file)
            ? file.ReadTensor(name)
            : throw new CheckpointFormatException(Path, $"no tensor named '{name}' in this checkpoint");

    /// <summary>Reads one tensor into <paramref name="destination"/>, a contiguous CPU tensor of its shape and dtype.</summary>
    public void ReadInto(string name, Tensor destination) =>
        (_owner.TryGetValue(name, out var file) ? file : throw new CheckpointFormatException(Path, $"no tensor named '{name}' in this checkpoint"))
            .ReadInto(name, destination);

    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }

    private static CheckpointReader OpenSingle(string path)
    {
        var file = SafetensorsFile.Open(path);
        return new CheckpointReader(path, [file], [.. file.Specs.Select(s => (s, file))]);
    }

    private static CheckpointReader OpenSharded(string indexPath)
    {
        var index = ShardIndex.Read(indexPath);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var files = new List<SafetensorsFile>();
        try
        {
            var tensors = new List<(TensorSpec, SafetensorsFile)>();
            foreach (var shard in index.Shards)
            {
                var shardPath = System.IO.Path.Combine(directory, shard);
                if (!File.Exists(shardPath))
                {
                    throw new CheckpointFormatException(indexPath, $"shard '{shard}' listed in the index is missing");
                }
                var file = SafetensorsFile.Open(shardPath);
                files.Add(file);
                foreach (var spec in file.Specs)
                {
                    // A tensor the index does not place here would be silently dropped or duplicated.
                    if (!index.WeightMap.TryGetValue(spec.Name, out var mapped) || mapped != shard)
                    {
                        throw new CheckpointFormatException(indexPath,
                            $"shard '{shard}' holds tensor '{spec.Name}' that the index does not map to it");
                    }
                    tensors.Add((spec, file));
                }
            }
            var found = tensors.Select(t => t.Item1.Name).ToHashSet(StringComparer.Ordinal);
            if (index.WeightMap.FirstOrDefault(kv => !found.Contains(kv.Key)) is { Key: not null } lost)
            {
                throw new CheckpointFormatException(indexPath, $"tensor '{lost.Key}' is mapped to shard '{lost.Value}' but missing from it");
            }
            return new CheckpointReader(indexPath, [.. files], tensors);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }
}
