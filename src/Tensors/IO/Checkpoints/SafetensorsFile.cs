using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Weights;
using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// One open .safetensors file. Opening reads and validates only the header; each
/// <see cref="ReadTensor"/> reads one tensor's bytes straight into a new CPU tensor, so a
/// checkpoint larger than memory can be streamed tensor by tensor. Reads are positional and
/// may run on several threads at once.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly SafetensorsHeader _header;
    private readonly Dictionary<string, HeaderEntry> _byName;

    private SafetensorsFile(string path, SafeFileHandle handle, SafetensorsHeader header)
    {
        Path = path;
        _handle = handle;
        _header = header;
        _byName = header.Entries.ToDictionary(e => e.Spec.Name, StringComparer.Ordinal);
        Specs = [.. header.Entries.Select(e => e.Spec)];
    }

    public static SafetensorsFile Open(string path)
    {
        RawFile.RequireLittleEndian();
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return new SafetensorsFile(path, handle, SafetensorsHeader.Read(handle, path));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>Tensor specs in file order: by position in the data section.</summary>
    public IReadOnlyList<TensorSpec> Specs { get; }

    /// <summary>The header's <c>__metadata__</c> map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    public WeightLayout Layout => new(Specs);

    /// <summary>Bytes of tensor data described by the header.</summary>
    public long DataBytes => _header.Entries.Sum(e => e.Length);

    public bool Contains(string name) => _byName.ContainsKey(name);

    public TensorSpec GetSpec(string name) => Entry(name).Spec;

    /// <summary>Reads one tensor into a new contiguous CPU tensor; the caller owns (and disposes) it.</summary>
    public Tensor ReadTensor(string name)
    {
        var entry = Entry(name);
        var tensor = empty(entry.Spec.Shape, entry.Spec.DType, CPU);
        try
        {
            Read(entry, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Reads one tensor into <paramref name="destination"/>, a contiguous CPU tensor of its shape and dtype.</summary>
    public void ReadInto(string name, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var entry = Entry(name);
        if (destination.dtype != entry.Spec.DType || !destination.shape.SequenceEqual(entry.Spec.Shape))
        {
            throw new ArgumentException($"tensor '{name}' is {entry.Spec.DType} {entry.Spec.ShapeText}, the destination "
                + $"{destination.dtype} [{string.Join(", ", destination.shape)}]", nameof(destination));
        }
        Read(entry, destination);
    }

    private unsafe void Read(HeaderEntry entry, Tensor destination)
    {
        if (entry.Length > 0)
        {
            RawFile.ReadExactly(_handle, Path, TensorMemory.BytePointer(destination), entry.Length, _header.DataStart + entry.Begin);
        }
    }

    /// <summary>Where tensor <paramref name="name"/>'s bytes lie in the file: absolute offset and length.</summary>
    public (long Offset, long Length) Placement(string name)
    {
        var entry = Entry(name);
        return (_header.DataStart + entry.Begin, entry.Length);
    }

    public void Dispose() => _handle.Dispose();

    private HeaderEntry Entry(string name) =>
        _byName.TryGetValue(name, out var entry)
            ? entry
            : throw new CheckpointFormatException(Path, $"no tensor named '{name}' in this file");
}
