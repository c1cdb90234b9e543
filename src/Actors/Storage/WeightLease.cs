using EvolverActors.Tensors.Weights;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// A holder's claim on resident weights (see <see cref="ResidentWeights"/>). The weights stay resident
/// while any lease on their id is alive; the holder must not dispose or modify them. Disposing a lease
/// twice is harmless; <see cref="Share"/> hands a second, independent lease to another holder.
/// </summary>
public sealed class WeightLease : IDisposable
{
    private readonly ResidentWeights _owner;
    private readonly WeightSet _weights;
    private int _disposed;

    internal WeightLease(ResidentWeights owner, string id, WeightSet weights)
    {
        _owner = owner;
        Id = id;
        _weights = weights;
    }

    public string Id { get; }

    /// <summary>The shared, read-only weights; throws once this lease is disposed.</summary>
    public WeightSet Weights =>
        Volatile.Read(ref _disposed) == 0 ? _weights : throw new ObjectDisposedException(nameof(WeightLease), $"lease on weights '{Id}' is disposed");

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>A second lease on the same weights, for another holder; it must be disposed separately.</summary>
    public WeightLease Share()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return _owner.Share(Id);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Release(Id);
        }
    }

    public override string ToString() => $"WeightLease({Id})";
}
