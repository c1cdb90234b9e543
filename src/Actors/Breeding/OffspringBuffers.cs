using System.Collections.Concurrent;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Actors.Breeding;

/// <summary>
/// Spare offspring weight sets for reuse: fresh large tensors are page-fault bound and fragment native memory
/// (fresh large tensors are page-fault bound), so a released offspring goes back here instead of being freed. Sets come back from
/// whichever thread releases the last lease, so the pool is thread-safe and bounded.
/// </summary>
internal sealed class OffspringBuffers(int capacity = 8)
{
    private readonly ConcurrentQueue<WeightSet> _spare = new();
    private volatile bool _closed;

    /// <summary>
    /// A buffer shaped like <paramref name="like"/>: a spare one, or a new one. Every offspring of a population has
    /// the same layout, and OffspringBuilder checks the buffer against the target anyway, so no check here.
    /// </summary>
    public WeightSet Take(WeightSet like) => _spare.TryDequeue(out var buffer) ? buffer : like.EmptyLike();

    public void Return(WeightSet buffer)
    {
        if (_closed || _spare.Count >= capacity)
        {
            buffer.Dispose();
            return;
        }
        _spare.Enqueue(buffer);
        if (_closed && _spare.TryDequeue(out var late))
        {
            late.Dispose(); // closed while we were enqueuing
        }
    }

    public void Close()
    {
        _closed = true;
        while (_spare.TryDequeue(out var buffer))
        {
            buffer.Dispose();
        }
    }
}
