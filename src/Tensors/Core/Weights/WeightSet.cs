using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>
/// The genome: the named tensors of one model, in a fixed order, on one device.
/// A weight set is the single owner of its tensors: they are detached from any dispose scope
/// when adopted and released together by <see cref="Dispose"/>. Nothing else may dispose them.
/// A set may be memory-mapped (<see cref="AdoptMapped"/>): some or all of its tensors read a file's pages in place;
/// such a set is read-only, and code that streams over it calls <see cref="ReleasePages(int)"/> after each tensor so
/// that the pages it read leave the resident set (docs/architecture.md §3).
/// </summary>
public sealed class WeightSet : IDisposable
{
    private static long _liveTensors;

    private readonly string[] _names;
    private readonly Tensor[] _tensors;
    private readonly Dictionary<string, int> _index;
    private readonly bool[]? _mapped;
    private bool _disposed;

    private WeightSet(string[] names, Tensor[] tensors, bool[]? mapped = null)
    {
        _names = names;
        _tensors = tensors;
        _mapped = mapped;
        _index = new Dictionary<string, int>(names.Length, StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            if (!_index.TryAdd(names[i], i))
            {
                throw new EvolverException($"weight set has the tensor name '{names[i]}' twice");
            }
        }
        Interlocked.Add(ref _liveTensors, tensors.Length);
    }

    /// <summary>Tensors owned by weight sets that are not yet disposed, process-wide (for leak tests).</summary>
    public static long LiveTensors => Interlocked.Read(ref _liveTensors);

    /// <summary>Takes ownership of the given tensors (detaching them from the current dispose scope).</summary>
    public static WeightSet Adopt(IEnumerable<(string Name, Tensor Tensor)> entries)
    {
        var list = entries.ToList();
        foreach (var (_, tensor) in list)
        {
            tensor.DetachFromDisposeScope();
        }
        return new WeightSet([.. list.Select(e => e.Name)], [.. list.Select(e => e.Tensor)]);
    }

    /// <summary>
    /// Takes ownership of tensors of which those flagged <c>Mapped</c> alias a memory-mapped file
    /// (read-only: never write into them).
    /// </summary>
    public static WeightSet AdoptMapped(IEnumerable<(string Name, Tensor Tensor, bool Mapped)> entries)
    {
        var list = entries.ToList();
        foreach (var (_, tensor, _) in list)
        {
            tensor.DetachFromDisposeScope();
        }
        return new WeightSet([.. list.Select(e => e.Name)], [.. list.Select(e => e.Tensor)], [.. list.Select(e => e.Mapped)]);
    }

    public int Count => _names.Length;

    /// <summary>Whether any tensor reads a memory-mapped file in place (the set is then read-only).</summary>
    public bool IsMapped => _mapped?.Any(m => m) == true;

    /// <summary>Bytes of tensor data held in memory of its own (mapped tensors count nothing: their pages are the file's).</summary>
    public long OwnedBytes => _tensors.Where((_, i) => _mapped?[i] != true).Sum(t => t.numel() * t.element_size());

    /// <summary>
    /// Lets the pages of mapped tensor <paramref name="index"/> leave the resident set (the next read brings them back from
    /// the page cache); a no-op for a tensor held in memory. Call it once a streaming pass is done with the tensor.
    /// </summary>
    public unsafe void ReleasePages(int index)
    {
        if (_mapped?[index] == true && !_disposed)
        {
            var tensor = _tensors[index];
            Native.PageAdvice.DropPages(Native.TensorMemory.BytePointer(tensor), tensor.numel() * tensor.element_size());
        }
    }

    /// <summary>
    /// Maps mapped tensor <paramref name="index"/>'s pages in before a streaming pass reads all of it (one call instead of
    /// a page fault per 64 kB); a no-op for a tensor held in memory. Pair it with <see cref="ReleasePages(int)"/>.
    /// </summary>
    public unsafe void PrefetchPages(int index)
    {
        if (_mapped?[index] == true && !_disposed)
        {
            var tensor = _tensors[index];
            Native.PageAdvice.PopulatePages(Native.TensorMemory.BytePointer(tensor), tensor.numel() * tensor.element_size());
        }
    }

    /// <summary>Lets every mapped tensor's pages leave the resident set (after a whole-set read, e.g. scoring).</summary>
    public void ReleasePages()
    {
        if (_mapped is null)
        {
            return;
        }
        for (var i = 0; i < _tensors.Length; i++)
        {
            ReleasePages(i);
        }
    }
    public IReadOnlyList<string> Names => _names;
    public WeightLayout Layout => WeightLayout.Of(this);
    public long ParameterCount => _tensors.Sum(t => t.numel());
    public Device Device => _tensors.Length > 0 ? _tensors[0].device : CPU;

    public Tensor this[int index] => Alive(_tensors[index]);
    public Tensor this[string name] =>
        _index.TryGetValue(name, out var i) ? Alive(_tensors[i]) : throw new KeyNotFoundException($"no tensor named '{name}'");

    public bool Contains(string name) => _index.ContainsKey(name);
    public int IndexOf(string name) => _index.TryGetValue(name, out var i) ? i : -1;

    public IEnumerable<(string Name, Tensor Tensor)> Entries()
    {
        for (var i = 0; i < _names.Length; i++)
        {
            yield return (_names[i], Alive(_tensors[i]));
        }
    }

    /// <summary>A new weight set of uninitialised tensors with this layout (a preallocated output buffer).</summary>
    public WeightSet EmptyLike(ScalarType? dtype = null, Device? device = null) =>
        Map((_, t) => empty(t.shape, dtype ?? t.dtype, device ?? t.device));

    public WeightSet ZerosLike(ScalarType? dtype = null) => Map((_, t) => zeros(t.shape, dtype ?? t.dtype, t.device));

    public WeightSet Clone() => Map((_, t) => t.clone());

    /// <summary>A copy on another device and/or dtype (floating tensors only change dtype).</summary>
    public WeightSet To(Device device, ScalarType? floatType = null) =>
        Map((_, t) => t.to(floatType is { } f && DTypes.IsFloating(t.dtype) ? f : t.dtype, device, copy: true));

    /// <summary>Copies every tensor of <paramref name="source"/> (same layout) into this set, in place.</summary>
    public void CopyFrom(WeightSet source)
    {
        WeightLayout.RequireSame(Layout, "destination", source.Layout, "source");
        for (var i = 0; i < _tensors.Length; i++)
        {
            _tensors[i].copy_(source[i]);
            source.ReleasePages(i);
        }
    }

    /// <summary>Builds a new weight set tensor by tensor; temporaries die with the per-tensor scope.</summary>
    public WeightSet Map(Func<string, Tensor, Tensor> make)
    {
        var outputs = new List<(string, Tensor)>(Count);
        try
        {
            for (var i = 0; i < _names.Length; i++)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var result = make(_names[i], Alive(_tensors[i]));
                outputs.Add((_names[i], result.MoveToOuterDisposeScope()));
                ReleasePages(i);
            }
        }
        catch
        {
            foreach (var (_, t) in outputs)
            {
                t.Dispose();
            }
            throw;
        }
        return Adopt(outputs);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var t in _tensors)
        {
            t.Dispose();
        }
        Interlocked.Add(ref _liveTensors, -_tensors.Length);
    }

    private Tensor Alive(Tensor t) => _disposed ? throw new ObjectDisposedException(nameof(WeightSet)) : t;
}
