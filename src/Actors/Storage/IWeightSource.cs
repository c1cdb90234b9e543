using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// Where weights come from when they are not resident (docs/architecture.md §3): a population snapshot, an older run's
/// weight file, a starting checkpoint, or a rebuild from the recipe in the journal.
/// </summary>
public interface IWeightSource
{
    /// <summary>
    /// Loads or rebuilds weights <paramref name="id"/> on <paramref name="device"/>; the caller owns the result.
    /// A rebuild takes its parents through <paramref name="acquire"/> (the cache), and disposes those leases.
    /// Throws <see cref="WeightFileException"/> when the id cannot be obtained.
    /// </summary>
    WeightSet Load(string id, Device device, Func<string, WeightLease> acquire);

    /// <summary>
    /// Takes back a set this source loaded once the cache lets go of it (a source may reuse its memory: fresh large
    /// tensors are page-fault bound); the default disposes it.
    /// </summary>
    void Return(WeightSet weights) => weights.Dispose();

    /// <summary>
    /// Makes weights <paramref name="id"/> obtainable again without rebuilding them once they leave memory (under a
    /// memory budget: written to the run's snapshot store, to be mapped back); the default keeps nothing.
    /// <paramref name="version"/> is the population version that adopted them.
    /// </summary>
    void Keep(string id, WeightSet weights, long version)
    {
    }
}

/// <summary>The weight store as a source: every id is a file (older runs, tests).</summary>
public sealed class StoreSource(WeightStore store) : IWeightSource
{
    public WeightSet Load(string id, Device device, Func<string, WeightLease> acquire) => store.Load(id, device);
}
