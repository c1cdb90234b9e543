using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// The process-wide cache of device-resident weight sets by id (docs/architecture.md §2), reference-counted by
/// <see cref="WeightLease"/>s: a set is loaded from the <see cref="WeightStore"/> by the first acquirer
/// (concurrent acquirers of one id wait for that single load) and disposed when the last lease on it is
/// disposed, so a member's old weights live exactly as long as some breeder or evaluator still holds them.
/// Thread-safe. Leases are never used by two threads at once, but may be disposed on any thread.
/// </summary>
public sealed class ResidentWeights
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _residentBytes;
    private long _loads;

    public ResidentWeights(WeightStore store, Device device)
    {
        Store = store;
        Device = device;
    }

    public WeightStore Store { get; }
    public Device Device { get; }

    /// <summary>Weight sets resident now (loaded or registered, with at least one live lease).</summary>
    public int ResidentCount
    {
        get
        {
            lock (_gate)
            {
                return _entries.Values.Count(e => e.Weights is not null);
            }
        }
    }

    /// <summary>Tensor data bytes of the resident weight sets.</summary>
    public long ResidentBytes => Interlocked.Read(ref _residentBytes);

    /// <summary>Loads from the store so far (a test of "load once").</summary>
    public long Loads => Interlocked.Read(ref _loads);

    public bool IsResident(string id)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(id, out var entry) && entry.Weights is not null;
        }
    }

    /// <summary>Live leases on <paramref name="id"/> (0 when not resident).</summary>
    public int LeaseCount(string id)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(id, out var entry) ? entry.Leases : 0;
        }
    }

    /// <summary>
    /// A lease on weights <paramref name="id"/>, loaded from the store onto <see cref="Device"/> when not
    /// resident. Throws <see cref="WeightFileException"/> when the file is missing or corrupt.
    /// </summary>
    public WeightLease Acquire(string id)
    {
        StoragePaths.RequireValidId(id, "weight id");
        Entry entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(id, out entry!))
            {
                entry = new Entry(id);
                _entries.Add(id, entry);
            }
            entry.Leases++;
        }
        try
        {
            EnsureLoaded(entry);
        }
        catch
        {
            Release(entry);
            throw;
        }
        return new WeightLease(this, entry.Id, entry.Weights!);
    }

    /// <summary>
    /// Makes freshly built <paramref name="weights"/> resident as <paramref name="id"/> and returns the
    /// first lease on them. Ownership passes to this cache even when it throws: an id that is already
    /// resident is refused (ids are immutable) and the given set is disposed. When the last lease goes,
    /// <paramref name="recycle"/> (if given) takes the weight set back instead of it being disposed, so a
    /// breeder can reuse offspring buffers (fresh large tensors are page-fault bound).
    /// </summary>
    public WeightLease Register(string id, WeightSet weights, Action<WeightSet>? recycle = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        try
        {
            StoragePaths.RequireValidId(id, "weight id");
            var entry = new Entry(id) { Leases = 1, Recycle = recycle };
            lock (_gate)
            {
                if (!_entries.TryAdd(id, entry))
                {
                    throw new InvalidOperationException($"weights '{id}' are already resident: weight ids are immutable");
                }
                entry.SetLoaded(weights);
            }
            Interlocked.Add(ref _residentBytes, entry.Bytes);
            return new WeightLease(this, id, weights);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>One more lease on an entry that a live lease keeps resident.</summary>
    internal WeightLease Share(string id)
    {
        lock (_gate)
        {
            var entry = _entries[id];
            entry.Leases++;
            return new WeightLease(this, id, entry.Weights!);
        }
    }

    internal void Release(string id)
    {
        Entry entry;
        lock (_gate)
        {
            entry = _entries[id];
        }
        Release(entry);
    }

    private void EnsureLoaded(Entry entry)
    {
        if (entry.Weights is not null)
        {
            return;
        }
        // One loader per entry; the others wait on it. A failed load is retried by the next waiter.
        lock (entry.LoadGate)
        {
            if (entry.Weights is not null)
            {
                return;
            }
            var weights = Store.Load(entry.Id, Device);
            Interlocked.Increment(ref _loads);
            lock (_gate)
            {
                entry.SetLoaded(weights);
            }
            Interlocked.Add(ref _residentBytes, entry.Bytes);
        }
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            if (--entry.Leases > 0)
            {
                return;
            }
            _entries.Remove(entry.Id);
        }
        // No lease is left, so nobody can reach the entry any more (nor be loading it).
        if (entry.Weights is { } weights)
        {
            Interlocked.Add(ref _residentBytes, -entry.Bytes);
            if (entry.Recycle is { } recycle)
            {
                recycle(weights);
            }
            else
            {
                weights.Dispose();
            }
        }
    }

    private sealed class Entry(string id)
    {
        public string Id { get; } = id;
        public object LoadGate { get; } = new();
        public int Leases { get; set; }
        public Action<WeightSet>? Recycle { get; init; }
        private volatile WeightSet? _weights;

        /// <summary>Set once, after <see cref="Bytes"/>; read without a lock by the fast path.</summary>
        public WeightSet? Weights => _weights;
        public long Bytes { get; private set; }

        public void SetLoaded(WeightSet weights)
        {
            Bytes = weights.Layout.Specs.Sum(SafetensorsWriter.DataBytes);
            _weights = weights;
        }
    }
}
