using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Weights;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// One .safetensors file written tensor by tensor: the header comes first (every name, shape and dtype is known
/// up front, so every tensor's place is too), then each tensor's bytes go to their place as they arrive, in any
/// order. The layout is <see cref="SafetensorsWriter"/>'s, byte for byte. The bytes go to a temp file next to
/// <see cref="Path"/>; <see cref="Finish"/> fsyncs and closes it and <see cref="Publish"/> renames it over the final
/// name, so the final name never holds half a file. Disposing before <see cref="Publish"/> deletes the temp file.
/// </summary>
internal sealed class SafetensorsStreamWriter : IDisposable
{
    private readonly Dictionary<string, (TensorSpec Spec, long Offset)> _places;
    private readonly HashSet<string> _pending;
    private readonly bool _durable;
    private SafeFileHandle? _handle;
    private bool _published;

    /// <param name="path">The final file name.</param>
    /// <param name="specs">The tensors the file will hold (any order: the file is laid out in the Hugging Face order).</param>
    /// <param name="metadata">The header's <c>__metadata__</c>.</param>
    /// <param name="durable">Whether <see cref="Finish"/> fsyncs (false for scratch files).</param>
    public SafetensorsStreamWriter(string path, IReadOnlyList<TensorSpec> specs, IReadOnlyDictionary<string, string>? metadata, bool durable = true)
    {
        RawFile.RequireLittleEndian();
        Path = System.IO.Path.GetFullPath(path);
        _durable = durable;
        var ordered = SafetensorsWriter.InFileOrder(specs);
        var header = SafetensorsWriter.BuildHeader(ordered, metadata);
        var dataStart = 8L + header.Length;
        _places = new Dictionary<string, (TensorSpec, long)>(StringComparer.Ordinal);
        var offset = dataStart;
        foreach (var spec in ordered)
        {
            _places[spec.Name] = (spec, offset);
            offset += SafetensorsWriter.DataBytes(spec);
        }
        _pending = [.. ordered.Select(s => s.Name)];
        TempPath = RawFile.TempPath(Path);
        _handle = File.OpenHandle(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        try
        {
            var prefix = new byte[8];
            BitConverter.TryWriteBytes(prefix, (ulong)header.Length);
            RandomAccess.Write(_handle, prefix, 0);
            RandomAccess.Write(_handle, header, 8);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The final file name.</summary>
    public string Path { get; }

    /// <summary>The temp file the bytes go to until <see cref="Publish"/>.</summary>
    public string TempPath { get; }

    /// <summary>Whether every tensor is written (an empty one too: it is given like any other).</summary>
    public bool IsComplete => _pending.Count == 0;

    /// <summary>The names not written yet.</summary>
    public IReadOnlyCollection<string> Pending => _pending;

    /// <summary>Writes one tensor's bytes (any device; copied to a contiguous CPU tensor when needed) to its place.</summary>
    public unsafe void Write(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_places.TryGetValue(name, out var place))
        {
            throw new EvolverException($"{Path}: tensor '{name}' is not one of the tensors this file was laid out for");
        }
        var (spec, offset) = place;
        if (tensor.dtype != spec.DType || !tensor.shape.SequenceEqual(spec.Shape))
        {
            throw new EvolverException(
                $"{Path}: tensor '{name}' is {DTypes.ToCode(tensor.dtype)} [{string.Join(", ", tensor.shape)}], the header says {DTypes.ToCode(spec.DType)} {spec.ShapeText}");
        }
        if (!_pending.Contains(name))
        {
            throw new EvolverException($"{Path}: tensor '{name}' is written twice");
        }
        var bytes = SafetensorsWriter.DataBytes(spec);
        if (bytes == 0)
        {
            _pending.Remove(name);
            return;
        }
        var handle = _handle ?? throw new ObjectDisposedException(nameof(SafetensorsStreamWriter));
        using var scope = NewDisposeScope();
        var cpu = tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();
        cpu = cpu.is_contiguous() ? cpu : cpu.contiguous();
        RawFile.WriteAt(handle, TensorMemory.BytePointer(cpu), bytes, offset);
        _pending.Remove(name);
    }

    /// <summary>Once every tensor is written: fsyncs (when durable) and closes the temp file.</summary>
    public void Finish()
    {
        if (_handle is null)
        {
            return;
        }
        if (!IsComplete)
        {
            throw new EvolverException($"{Path}: {_pending.Count} tensor(s) not written yet, e.g. '{_pending.First()}'");
        }
        if (_durable)
        {
            RandomAccess.FlushToDisk(_handle);
        }
        _handle.Dispose();
        _handle = null;
    }

    /// <summary>Finishes the file and renames it over <see cref="Path"/>.</summary>
    public void Publish()
    {
        Finish();
        File.Move(TempPath, Path, overwrite: true);
        _published = true;
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
        if (!_published)
        {
            File.Delete(TempPath);
        }
    }
}
