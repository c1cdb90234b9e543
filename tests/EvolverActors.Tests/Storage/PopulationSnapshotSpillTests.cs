using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Storage;

/// <summary>
/// Under a memory budget adopted weights are spilled into the snapshot store (docs/architecture.md §3): mapped back
/// verified, kept until the next snapshot, and kept by it only if the population still needs them.
/// </summary>
public sealed class PopulationSnapshotSpillTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// A set in the order a safetensors file keeps (wider dtypes first), as every set loaded from a checkpoint is: a
    /// content hash covers the order, and a file written from a set in another order maps back in file order.
    /// </summary>
    private static WeightSet InFileOrder(float seed) => WeightSet.Adopt(
    [
        ("layer.steps", tensor(new long[] { 1, 2, 3, (long)seed })),
        ("layer.weight", tensor(new[] { seed, seed + 1, seed + 2, seed + 3, seed + 4, seed + 5 }).reshape(2, 3)),
    ]);

    [Fact]
    public void A_spilled_set_maps_back_and_lives_until_a_snapshot_that_does_not_need_it()
    {
        var snapshots = new PopulationSnapshots(_dir.File("snapshots"));
        using var kept = InFileOrder(1f);
        using var dropped = InFileOrder(2f);
        snapshots.Spill("o-kept", kept, version: 3);
        snapshots.Spill("o-dropped", dropped, version: 4);
        snapshots.Spill("o-dropped", dropped, version: 4); // again: nothing written twice
        using var late = InFileOrder(4f);
        snapshots.Spill("o-late", late, version: 6);
        Assert.Equal(3, Directory.GetFiles(snapshots.Directory, "*.safetensors").Length);

        using (var mapped = snapshots.TryLoad("o-kept", CPU, mapped: true))
        {
            Assert.NotNull(mapped);
            Assert.True(mapped.IsMapped);
            Assert.Equal(WeightHash.Of(kept), WeightHash.Of(mapped));
        }

        // A snapshot of version 5 keeps o-kept; o-dropped, adopted by version 4 and not in it, goes; o-late, adopted by
        // version 6 (after the population the snapshot was taken of), stays for a later snapshot to decide.
        snapshots.Write(decided: 5, version: 5, members: ["o-kept"], keep: ["o-kept"], acquire: _ => throw new InvalidOperationException("o-kept is stored"));
        Assert.True(snapshots.Contains("o-kept"));
        Assert.False(snapshots.Contains("o-dropped"));
        Assert.True(snapshots.Contains("o-late"));
        Assert.Null(snapshots.TryLoad("o-dropped", CPU, mapped: true));
    }

    [Fact]
    public void A_damaged_spill_is_passed_over_so_the_weights_are_rebuilt()
    {
        var snapshots = new PopulationSnapshots(_dir.File("snapshots"));
        using var weights = InFileOrder(3f);
        snapshots.Spill("o-x", weights, version: 1);
        snapshots.Write(decided: 1, version: 1, members: ["o-x"], keep: ["o-x"], acquire: _ => throw new InvalidOperationException("o-x is stored"));
        var path = Directory.GetFiles(snapshots.Directory, "*.safetensors").Single();
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        // Another process verifies what it maps: the flipped byte does not match the hash its manifest records.
        var again = new PopulationSnapshots(_dir.File("snapshots"));
        Assert.Null(again.TryLoad("o-x", CPU, mapped: true));
        Assert.Contains(again.Problems, p => p.Contains("o-x", StringComparison.Ordinal));
    }
}
