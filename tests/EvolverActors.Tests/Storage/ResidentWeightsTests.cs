using System.Collections.Concurrent;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Storage;

public sealed class ResidentWeightsTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly long _liveAtStart = WeightSet.LiveTensors;
    private readonly WeightStore _store;
    private readonly ResidentWeights _resident;

    public ResidentWeightsTests()
    {
        _store = new WeightStore(_dir.Path);
        using var weights = StorageFixtures.Tiny(5f);
        _store.Write("parent", weights);
        _resident = new ResidentWeights(_store, CPU);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Acquire_loads_from_the_store_and_the_last_release_frees_the_weights()
    {
        var lease = _resident.Acquire("parent");
        Assert.Equal("parent", lease.Id);
        Assert.Equal(5f, StorageFixtures.Floats(lease.Weights, "layer.weight")[0]);
        Assert.True(_resident.IsResident("parent"));
        Assert.Equal(1, _resident.ResidentCount);
        Assert.Equal(StorageFixtures.TinyBytes, _resident.ResidentBytes);
        Assert.Equal(_liveAtStart + 2, WeightSet.LiveTensors);

        lease.Dispose();
        Assert.False(_resident.IsResident("parent"));
        Assert.Equal(0, _resident.ResidentCount);
        Assert.Equal(0, _resident.ResidentBytes);
        Assert.Equal(_liveAtStart, WeightSet.LiveTensors);
    }

    [Fact]
    public void An_id_stays_resident_while_any_lease_is_alive()
    {
        var first = _resident.Acquire("parent");
        var second = _resident.Acquire("parent");
        var shared = second.Share();
        Assert.Same(first.Weights, second.Weights);
        Assert.Same(first.Weights, shared.Weights);
        Assert.Equal(3, _resident.LeaseCount("parent"));
        Assert.Equal(1, _resident.Loads);

        first.Dispose();
        second.Dispose();
        Assert.True(_resident.IsResident("parent"));
        Assert.Equal(5f, StorageFixtures.Floats(shared.Weights, "layer.weight")[0]);

        shared.Dispose();
        Assert.False(_resident.IsResident("parent"));
        Assert.Equal(_liveAtStart, WeightSet.LiveTensors);
    }

    [Fact]
    public void Disposing_a_lease_twice_is_harmless()
    {
        var keep = _resident.Acquire("parent");
        var lease = _resident.Acquire("parent");
        lease.Dispose();
        lease.Dispose();
        Assert.True(_resident.IsResident("parent"));
        Assert.Equal(1, _resident.LeaseCount("parent"));
        Assert.Throws<ObjectDisposedException>(() => lease.Weights);
        Assert.Throws<ObjectDisposedException>(() => lease.Share());
        keep.Dispose();
        Assert.Equal(_liveAtStart, WeightSet.LiveTensors);
    }

    [Fact]
    public void Register_takes_ownership_of_a_fresh_offspring()
    {
        var child = StorageFixtures.Tiny(8f);
        var lease = _resident.Register("child-1", child);
        Assert.Same(child, lease.Weights);
        Assert.True(_resident.IsResident("child-1"));
        Assert.False(_store.Contains("child-1"));

        using (var again = _resident.Acquire("child-1"))
        {
            Assert.Same(child, again.Weights);
            Assert.Equal(0, _resident.Loads);
        }
        lease.Dispose();
        Assert.False(_resident.IsResident("child-1"));
        Assert.Equal(_liveAtStart, WeightSet.LiveTensors);
    }

    [Fact]
    public void Registering_a_resident_id_again_keeps_the_resident_set_and_frees_the_new_one()
    {
        // Ids are content addresses: a second set under one id is the same weights, so the resident one is shared.
        using var lease = _resident.Register("child-2", StorageFixtures.Tiny(1f));
        var duplicate = StorageFixtures.Tiny(1f);
        using var second = _resident.Register("child-2", duplicate);
        Assert.Throws<ObjectDisposedException>(() => duplicate[0]);
        Assert.Same(lease.Weights, second.Weights);
        Assert.Equal(2, _resident.LeaseCount("child-2"));
    }

    [Fact]
    public void Unheld_sets_stay_cached_within_the_budget_and_the_least_recently_used_go_first()
    {
        var bytes = StorageFixtures.Tiny(1f).Layout.Specs.Sum(Tensors.Checkpoints.SafetensorsWriter.DataBytes);
        var cache = new ResidentWeights(new StoreSource(_store), CPU, maxBytes: 2 * bytes);
        cache.Register("a", StorageFixtures.Tiny(1f)).Dispose();
        cache.Register("b", StorageFixtures.Tiny(2f)).Dispose();
        Assert.True(cache.IsResident("a") && cache.IsResident("b"), "both fit the budget of two sets");
        cache.Acquire("a").Dispose(); // a is now the most recently used
        cache.Register("c", StorageFixtures.Tiny(3f)).Dispose();
        Assert.True(cache.IsResident("a") && cache.IsResident("c"), "a (recently used) and c stay");
        Assert.False(cache.IsResident("b"), "b, the least recently used, went");
        Assert.Equal(2 * bytes, cache.ResidentBytes);
    }

    [Fact]
    public void Under_a_budget_a_new_set_pushes_unheld_ones_out_and_room_counts_only_sets_in_use()
    {
        var cache = new ResidentWeights(new StoreSource(_store), CPU, maxBytes: 2 * StorageFixtures.TinyBytes);
        using var held = cache.Register("held", StorageFixtures.Tiny(1f));
        cache.Register("old", StorageFixtures.Tiny(2f)).Dispose();
        Assert.True(cache.HasRoomFor(StorageFixtures.TinyBytes), "one set in use and one unheld: the unheld one makes room");
        using var second = cache.Register("new", StorageFixtures.Tiny(3f));
        Assert.False(cache.IsResident("old"), "registering over the budget evicts the unheld set at once");
        Assert.False(cache.HasRoomFor(StorageFixtures.TinyBytes), "two sets in use fill the budget");
        Assert.True(new ResidentWeights(new StoreSource(_store), CPU).HasRoomFor(long.MaxValue), "no budget: always room");
    }

    [Fact]
    public void A_memory_mapped_set_counts_none_of_its_file_bytes()
    {
        var cache = new ResidentWeights(new MappedStoreSource(_store), CPU, maxBytes: 1);
        using var lease = cache.Acquire("parent");
        Assert.True(lease.Weights.IsMapped);
        Assert.Equal(0, cache.ResidentBytes);
        Assert.Equal(5f, StorageFixtures.Floats(lease.Weights, "layer.weight")[0]);
    }

    private sealed class MappedStoreSource(WeightStore store) : IWeightSource
    {
        public WeightSet Load(string id, Device device, Func<string, WeightLease> acquire) => store.Load(id, device, mapped: true);
    }

    [Fact]
    public void A_missing_id_throws_and_leaves_nothing_behind()
    {
        var e = Assert.Throws<WeightFileException>(() => _resident.Acquire("ghost"));
        Assert.Equal("ghost", e.Id);
        Assert.False(_resident.IsResident("ghost"));
        Assert.Equal(0, _resident.LeaseCount("ghost"));
        Assert.Equal(0, _resident.ResidentCount);
    }

    [Fact]
    public void Concurrent_acquirers_of_one_id_load_it_once()
    {
        var leases = new ConcurrentBag<WeightLease>();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => leases.Add(_resident.Acquire("parent")));

        Assert.Equal(1, _resident.Loads);
        Assert.Single(leases.Select(l => l.Weights).Distinct());
        Assert.Equal(64, _resident.LeaseCount("parent"));

        Parallel.ForEach(leases, lease => lease.Dispose());
        Assert.False(_resident.IsResident("parent"));
        Assert.Equal(0, _resident.ResidentBytes);
        Assert.Equal(_liveAtStart, WeightSet.LiveTensors);
    }

    [Fact]
    public void Churn_of_acquire_share_and_release_leaks_nothing()
    {
        using (var weights = StorageFixtures.Tiny(2f))
        {
            _store.Write("other", weights);
        }
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            using var lease = _resident.Acquire(i % 2 == 0 ? "parent" : "other");
            using var shared = lease.Share();
            Assert.Equal(6, shared.Weights["layer.weight"].numel());
        });
        Assert.Equal(0, _resident.ResidentCount);
        Assert.Equal(0, _resident.ResidentBytes);
        Assert.Equal(_liveAtStart, WeightSet.LiveTensors);
    }
}
