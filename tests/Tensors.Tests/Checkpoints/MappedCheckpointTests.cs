using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

/// <summary>Memory-mapped checkpoints (docs/architecture.md §3, members of any size) read what a load reads, in place.</summary>
public sealed class MappedCheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static WeightSet Mixed() => WeightSet.Adopt(
    [
        ("a.weight", randn(300, 70, generator: new Generator(1)).to(ScalarType.BFloat16)),
        ("a.bias", randn(70, generator: new Generator(2))),
        ("b.weight", randn(5000, generator: new Generator(3)).to(ScalarType.Float16)),
        ("steps", tensor(new long[] { 7, 8, 9 })),
    ]);

    [Fact]
    public void A_mapped_checkpoint_has_the_loaded_tensors_and_holds_none_of_their_bytes()
    {
        using var original = Mixed();
        var path = _dir.File("model");
        Checkpoint.Save(path, original);

        using var loaded = Checkpoint.Load(path);
        using var mapped = MappedCheckpoint.Open(path);
        Assert.True(mapped.IsMapped);
        Assert.False(loaded.IsMapped);
        Assert.Equal(loaded.Layout.Specs.Select(s => $"{s.Name} {s.DType} {s.ShapeText}"), mapped.Layout.Specs.Select(s => $"{s.Name} {s.DType} {s.ShapeText}"));
        Assert.Equal(WeightHash.Of(loaded), WeightHash.Of(mapped));
        // Only a tensor whose offset is not a multiple of its element size is read into memory instead.
        Assert.True(mapped.OwnedBytes < loaded.OwnedBytes, $"mapped set owns {mapped.OwnedBytes} of {loaded.OwnedBytes} bytes");

        // Dropping the pages loses nothing: the next read brings the file's bytes back.
        mapped.ReleasePages();
        for (var i = 0; i < mapped.Count; i++)
        {
            Assert.True(loaded[i].equal(mapped[i]).all().item<bool>(), mapped.Names[i]);
        }
    }

    [Fact]
    public void A_sharded_checkpoint_maps_every_shard()
    {
        using var original = Mixed();
        var path = _dir.File("sharded");
        Checkpoint.Save(path, original, maxShardBytes: 30_000);
        Assert.True(File.Exists(Path.Combine(path, ShardIndex.FileName)));

        using var loaded = Checkpoint.Load(path);
        using var mapped = MappedCheckpoint.Open(path);
        Assert.Equal(WeightHash.Of(loaded), WeightHash.Of(mapped));
        using var copy = mapped.Clone();
        Assert.False(copy.IsMapped);
        Assert.Equal(WeightHash.Of(loaded), WeightHash.Of(copy));
    }

    [Fact]
    public void A_damaged_file_is_refused_naming_it()
    {
        var path = _dir.Write("broken.safetensors", [1, 2, 3]);
        var error = Assert.Throws<CheckpointFormatException>(() => MappedCheckpoint.Open(path));
        Assert.Contains("broken.safetensors", error.Message, StringComparison.Ordinal);
    }
}
