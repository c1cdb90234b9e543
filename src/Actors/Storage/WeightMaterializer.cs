using EvolverActors.Actors.Lineage;
using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// Gives any weight id of a run (docs/architecture.md §3), trying in order: a population snapshot (verified against
/// its recorded hash), a weight file of an older run, a starting checkpoint (referenced in place, by content hash),
/// and last a rebuild from the recipe in the journal, whose parents come through the cache in turn. A rebuild runs
/// the CPU reference kernel and is checked against the content hash the run measured when it scored the child.
/// When <see cref="Mapped"/> (a node under a memory budget), files are mapped in place rather than read, no spare
/// buffers are kept, and <see cref="Keep"/> writes adopted weights to the snapshot store so they can leave memory.
/// </summary>
public sealed class WeightMaterializer : IWeightSource
{
    private readonly IReadOnlyDictionary<string, string> _checkpoints;
    private readonly Func<string, MutationOperator> _operators;
    private readonly System.Collections.Concurrent.ConcurrentQueue<WeightSet> _spare = new();
    private long _rebuilds;
    private int _spareCapacity = DefaultSpareCapacity;

    /// <summary>Spare CPU sets kept for reuse as rebuild buffers (a run's sets all share one layout), unless reserved.</summary>
    private const int DefaultSpareCapacity = 4;

    /// <param name="checkpoints">The starting members' ids and checkpoint paths (file or directory).</param>
    /// <param name="book">The recipes of the run's offspring.</param>
    /// <param name="operators">The run's operator of a name (with the run's operator parameters).</param>
    /// <param name="snapshots">The run's population snapshots (null: none).</param>
    /// <param name="legacy">The weight store of a run made before recipes (null: none).</param>
    /// <param name="mapped">Map files in place on the CPU, keep no spare buffers, and spill adopted weights (a memory budget).</param>
    public WeightMaterializer(IReadOnlyDictionary<string, string> checkpoints, RecipeBook book, Func<string, MutationOperator> operators,
        PopulationSnapshots? snapshots = null, WeightStore? legacy = null, bool mapped = false)
    {
        Mapped = mapped;
        _checkpoints = checkpoints;
        Book = book;
        _operators = operators;
        Snapshots = snapshots;
        Legacy = legacy;
    }

    public RecipeBook Book { get; }
    public PopulationSnapshots? Snapshots { get; }
    public WeightStore? Legacy { get; }

    /// <summary>Whether files are memory-mapped in place on the CPU (a node under <c>memory.max-resident</c>).</summary>
    public bool Mapped { get; }

    /// <summary>Children rebuilt from recipes so far.</summary>
    public long Rebuilds => Interlocked.Read(ref _rebuilds);

    public WeightSet Load(string id, Device device, Func<string, WeightLease> acquire)
    {
        if (Snapshots?.TryLoad(id, device, Mapped) is { } snapshot)
        {
            return snapshot;
        }
        if (Legacy?.Contains(id) == true)
        {
            return Legacy.Load(id, device);
        }
        if (_checkpoints.TryGetValue(id, out var checkpoint))
        {
            // Mapped in place under a memory budget; otherwise, on the CPU, read straight into a (reused or huge-page) buffer.
            return Mapped || device.type != DeviceType.CPU
                ? WeightFileException.Load(id, checkpoint, device, Mapped)
                : WeightFileException.LoadInto(id, checkpoint, Buffer);
        }
        if (Book.TryGet(id, out var recipe, out var hash))
        {
            return Rebuild(id, recipe, hash, device, acquire);
        }
        throw new WeightFileException(id, Snapshots?.Directory ?? "(no snapshots)",
            "is neither a starting member, nor in a population snapshot, nor the child of a recipe this node knows");
    }

    /// <summary>
    /// Makes <paramref name="count"/> CPU buffers of the starting members' layout ready, written once so that their pages
    /// are mapped, and keeps up to that many spare from now on. A replay that knows its working set reserves it before it
    /// starts: fresh memory is mapped page by page on first touch, which in a VM costs more than a rebuild, and buffers
    /// given back are kept instead of freed and mapped again (docs/architecture.md §3). Returns the buffers allocated.
    /// </summary>
    public int Reserve(int count)
    {
        if (_checkpoints.Count == 0)
        {
            return 0;
        }
        var (id, path) = _checkpoints.First();
        var layout = WeightFileException.ReadLayout(id, path);
        Interlocked.Exchange(ref _spareCapacity, Math.Max(DefaultSpareCapacity, count));
        var allocated = 0;
        while (_spare.Count < count)
        {
            var buffer = WeightBuffers.Allocate(layout);
            foreach (var (_, tensor) in buffer.Entries())
            {
                tensor.zero_();
            }
            _spare.Enqueue(buffer);
            allocated++;
        }
        return allocated;
    }

    public void Keep(string id, WeightSet weights, long version)
    {
        if (Mapped && Snapshots is not null && !weights.IsMapped)
        {
            Snapshots.Spill(id, weights, version, Book.TryGet(id, out _, out var hash) ? hash : null);
        }
    }

    public void Return(WeightSet weights)
    {
        if (!Mapped && !weights.IsMapped && _spare.Count < Volatile.Read(ref _spareCapacity) && OnCpu(weights))
        {
            _spare.Enqueue(weights);
            return;
        }
        weights.Dispose();
    }

    /// <summary>
    /// A CPU buffer of <paramref name="layout"/>: a spare one of that layout, or a new one whose pages are advised as
    /// huge pages, since first-touch faults on 4 kB pages cost more than the rebuild itself (docs/architecture.md §3).
    /// </summary>
    private WeightSet Buffer(WeightLayout layout)
    {
        while (_spare.TryDequeue(out var spare))
        {
            if (WeightBuffers.HasLayout(spare, layout))
            {
                return spare;
            }
            spare.Dispose();
        }
        return WeightBuffers.Allocate(layout);
    }

    private static bool OnCpu(WeightSet weights) => weights.Count == 0 || weights[0].device_type == DeviceType.CPU;

    /// <summary>Builds the child of <paramref name="recipe"/> on the CPU (the reference kernel, or a coefficient recipe's merge) and moves it to the device.</summary>
    private WeightSet Rebuild(string id, Recipe recipe, string? hash, Device device, Func<string, WeightLease> acquire)
    {
        var leases = new List<WeightLease>();
        try
        {
            foreach (var input in recipe.Inputs())
            {
                leases.Add(acquire(input));
            }
            var target = leases[0].Weights;
            WeightSet? child = recipe.IsCoefficients ? null : Buffer(target.Layout);
            try
            {
                var onCpu = leases.Select(l => OnCpu(l.Weights) ? l.Weights : l.Weights.To(CPU)).ToList();
                try
                {
                    if (child is null)
                    {
                        child = CoefficientChild.Build(recipe, onCpu);
                    }
                    else
                    {
                        OffspringBuilder.BuildInto(child, _operators(recipe.Operator), recipe.Settings(), recipe.Seed, onCpu[0], onCpu[1..]);
                    }
                }
                finally
                {
                    for (var i = 0; i < onCpu.Count; i++)
                    {
                        if (!ReferenceEquals(onCpu[i], leases[i].Weights))
                        {
                            onCpu[i].Dispose();
                        }
                    }
                }
                if (hash is not null && WeightHash.Of(child) is var actual && actual != hash)
                {
                    throw new WeightFileException(id, "(rebuilt from its recipe)",
                        $"content hash {actual} differs from {hash}, the hash of what the run evaluated: the kernel did not reproduce it");
                }
                Interlocked.Increment(ref _rebuilds);
                if (device.type == DeviceType.CPU)
                {
                    return child;
                }
                using (child)
                {
                    return child.To(device);
                }
            }
            catch
            {
                child?.Dispose();
                throw;
            }
        }
        finally
        {
            leases.ForEach(l => l.Dispose());
        }
    }
}
