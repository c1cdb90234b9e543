using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// The node's cache of device-resident weight sets by id (docs/architecture.md §3), reference-counted by
/// <see cref="WeightLease"/>s: a set is obtained from its <see cref="IWeightSource"/> (a snapshot, a checkpoint, or a
/// rebuild from its recipe) by the first acquirer (concurrent acquirers of one id wait for that single load), and
/// stays while any lease holds it. Sets nobody holds stay cached, least recently used first out, while the cache is
/// within <see cref="MaxBytes"/> (0: nothing is kept unheld, as a member pins its own weights then). Memory-mapped sets
/// count only the bytes they hold in memory of their own.
/// Thread-safe. Leases are never used by two threads at once, but may be disposed on any thread.
/// </summary>
public sealed class ResidentWeights
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _unheld = new();
    private long _residentBytes;
    private long _loads;

    public ResidentWeights(IWeightSource source, Device device, long maxBytes = 0)
    {
        Source = source;
        Device = device;
        MaxBytes = maxBytes;
    }

    /// <summary>A cache over the files of <paramref name="store"/> (tests, older runs).</summary>
    public ResidentWeights(WeightStore store, Device device)
        : this(new StoreSource(store), device)
    {
    }

    public IWeightSource Source { get; }
    public Device Device { get; }

    /// <summary>The bytes of unheld sets the cache may keep (0: none; held sets are never evicted).</summary>
    public long MaxBytes { get; }

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
            if (entry.Leases++ == 0 && entry.UnheldNode is { } node)
            {
                _unheld.Remove(node);
                entry.UnheldNode = null;
            }
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
    /// first lease on them. Ownership passes to this cache even when it throws. Ids are content addresses, so an
    /// id that is already resident holds the same weights: the given set is let go and a lease on the resident one
    /// returned. When the set leaves the cache, <paramref name="recycle"/> (if given) takes it back instead of it
    /// being disposed, so a breeder can reuse offspring buffers (fresh large tensors are page-fault bound).
    /// </summary>
    public WeightLease Register(string id, WeightSet weights, Action<WeightSet>? recycle = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Entry entry;
        try
        {
            StoragePaths.RequireValidId(id, "weight id");
            entry = new Entry(id) { Leases = 1, Recycle = recycle };
            lock (_gate)
            {
                if (!_entries.TryAdd(id, entry))
                {
                    entry = null!;
                }
                else
                {
                    entry.SetLoaded(weights);
                }
            }
        }
        catch
        {
            weights.Dispose();
            throw;
        }
        if (entry is null)
        {
            (recycle ?? (w => w.Dispose()))(weights);
            return Acquire(id);
        }
        Interlocked.Add(ref _residentBytes, entry.Bytes);
        List<Entry> evicted;
        lock (_gate)
        {
            evicted = EvictOverBudget();
        }
        evicted.ForEach(Free);
        return new WeightLease(this, id, weights);
    }

    /// <summary>
    /// Evicts unheld sets, least recently used first, until a new set of <paramref name="bytes"/> fits the budget beside
    /// what is resident (before allocating it, so that the old and the new never need memory together).
    /// </summary>
    public void MakeRoomFor(long bytes)
    {
        if (MaxBytes == 0)
        {
            return;
        }
        List<Entry> evicted;
        lock (_gate)
        {
            evicted = EvictOverBudget(-bytes);
        }
        evicted.ForEach(Free);
    }

    /// <summary>
    /// Whether a new set of <paramref name="bytes"/> fits the budget next to the sets in use (always, without a budget or
    /// when nothing is in use: one set at a time must be possible). Unheld sets do not count: they make room.
    /// </summary>
    public bool HasRoomFor(long bytes)
    {
        if (MaxBytes == 0)
        {
            return true;
        }
        lock (_gate)
        {
            var held = _entries.Values.Where(e => e.Leases > 0 && e.Weights is not null).Sum(e => e.Bytes);
            return held == 0 || held + bytes <= MaxBytes;
        }
    }

    /// <summary>
    /// Asks the source to keep the leased weights obtainable once they leave memory (a member under a memory budget
    /// adopting them: see <see cref="IWeightSource.Keep"/>).
    /// </summary>
    public void Keep(WeightLease lease, long version)
    {
        ArgumentNullException.ThrowIfNull(lease);
        Source.Keep(lease.Id, lease.Weights, version);
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
            var weights = Source.Load(entry.Id, Device, Acquire);
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
        var evicted = new List<Entry>();
        lock (_gate)
        {
            if (--entry.Leases > 0)
            {
                return;
            }
            if (MaxBytes > 0 && entry.Weights is not null && entry.Bytes <= MaxBytes)
            {
                entry.UnheldNode = _unheld.AddLast(entry); // most recently used last
            }
            else
            {
                _entries.Remove(entry.Id);
                evicted.Add(entry);
            }
            evicted.AddRange(EvictOverBudget(evicted.Sum(e => e.Bytes)));
        }
        // No lease is left on these, so nobody can reach them any more (nor be loading them).
        foreach (var gone in evicted)
        {
            Free(gone);
        }
    }

    /// <summary>
    /// Held sets are never evicted; unheld ones go, oldest first, until the cache fits its budget (<paramref name="leaving"/>:
    /// bytes already on their way out). Under the lock; the caller frees what it returns, outside it.
    /// </summary>
    private List<Entry> EvictOverBudget(long leaving = 0)
    {
        var evicted = new List<Entry>();
        while (_unheld.First is { } oldest && Interlocked.Read(ref _residentBytes) - leaving > MaxBytes)
        {
            _unheld.RemoveFirst();
            oldest.Value.UnheldNode = null;
            _entries.Remove(oldest.Value.Id);
            evicted.Add(oldest.Value);
            leaving += oldest.Value.Bytes;
        }
        return evicted;
    }

    private void Free(Entry entry)
    {
        if (entry.Weights is not { } weights)
        {
            return;
        }
        Interlocked.Add(ref _residentBytes, -entry.Bytes);
        if (entry.Recycle is { } recycle)
        {
            recycle(weights);
        }
        else
        {
            Source.Return(weights);
        }
    }

    /// <summary>Frees every unheld cached set (at the end of a run; held ones stay with their holders).</summary>
    public void Trim()
    {
        List<Entry> evicted;
        lock (_gate)
        {
            evicted = [.. _unheld];
            _unheld.Clear();
            foreach (var entry in evicted)
            {
                entry.UnheldNode = null;
                _entries.Remove(entry.Id);
            }
        }
        evicted.ForEach(Free);
    }

    private sealed class Entry(string id)
    {
        public string Id { get; } = id;
        public object LoadGate { get; } = new();
        public int Leases { get; set; }
        public Action<WeightSet>? Recycle { get; init; }

        /// <summary>Its place in the unheld LRU list while no lease holds it (under the cache's lock).</summary>
        public LinkedListNode<Entry>? UnheldNode { get; set; }
        private volatile WeightSet? _weights;

        /// <summary>Set once, after <see cref="Bytes"/>; read without a lock by the fast path.</summary>
        public WeightSet? Weights => _weights;
        public long Bytes { get; private set; }

        public void SetLoaded(WeightSet weights)
        {
            Bytes = weights.OwnedBytes; // a memory-mapped set's pages are the file's, not this cache's
            _weights = weights;
        }
    }
}
