using System.Text.Json;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

public sealed class ShardedCheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Five tensors of 16, 16, 32, 8 and 16 bytes.</summary>
    private static WeightSet Weights() => WeightSet.Adopt(
    [
        ("a", arange(4, ScalarType.Float32)),
        ("b", full(4, 2f)),
        ("c", arange(8, ScalarType.Float32)),
        ("d", tensor(new long[] { 7 })),
        ("e", arange(8, ScalarType.Float32).to(ScalarType.BFloat16)),
    ]);

    [Fact]
    public void A_small_shard_limit_writes_hugging_face_shards_and_an_index()
    {
        var before = WeightSet.LiveTensors;
        using (var weights = Weights())
        {
            var written = Checkpoint.Save(_dir.Path, weights, new Dictionary<string, string> { ["format"] = "pt" }, maxShardBytes: 40);

            // Greedy in weight-set order: [a b] 32, [c d] 40, [e] 16.
            Assert.Equal(
                ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", Checkpoint.IndexFileName],
                written.Select(Path.GetFileName));
            Assert.False(File.Exists(_dir.File(Checkpoint.SingleFileName)));

            using var index = JsonDocument.Parse(File.ReadAllText(_dir.File(Checkpoint.IndexFileName)));
            Assert.Equal(88, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
            Assert.Equal(["a", "b", "c", "d", "e"], map.Keys);
            Assert.Equal("model-00001-of-00003.safetensors", map["b"]);
            Assert.Equal("model-00002-of-00003.safetensors", map["d"]);
            Assert.Equal("model-00003-of-00003.safetensors", map["e"]);

            using var shard = SafetensorsFile.Open(_dir.File("model-00002-of-00003.safetensors"));
            Assert.Equal(["d", "c"], shard.Specs.Select(s => s.Name)); // I64 before F32, as HF orders data
            Assert.Equal("pt", shard.Metadata["format"]);

            foreach (var source in new[] { _dir.Path, _dir.File(Checkpoint.IndexFileName) })
            {
                using var loaded = Checkpoint.Load(source);
                Assert.Null(WeightLayout.FirstMismatch(weights.Layout, "saved", loaded.Layout, "loaded"));
                foreach (var (name, t) in weights.Entries())
                {
                    using var scope = NewDisposeScope();
                    Assert.True(t.eq(loaded[name]).all().item<bool>(), $"tensor {name} differs");
                }
            }
        }
        Assert.Equal(before, WeightSet.LiveTensors);
    }

    [Fact]
    public void Saving_again_removes_the_other_layout_so_no_stale_checkpoint_is_read()
    {
        using var weights = Weights();
        Checkpoint.Save(_dir.Path, weights, null, maxShardBytes: 40);

        Checkpoint.Save(_dir.Path, weights);
        Assert.Equal([Checkpoint.SingleFileName], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));

        Checkpoint.Save(_dir.Path, weights, null, maxShardBytes: 56);
        Assert.Equal(
            ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", Checkpoint.IndexFileName],
            Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_missing_shard_is_reported_naming_the_index_and_the_shard()
    {
        using (var weights = Weights())
        {
            Checkpoint.Save(_dir.Path, weights, null, maxShardBytes: 40);
        }
        File.Delete(_dir.File("model-00002-of-00003.safetensors"));

        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadLayout(_dir.Path));

        Assert.Contains(Checkpoint.IndexFileName, e.Message);
        Assert.Contains("model-00002-of-00003.safetensors", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void A_tensor_the_index_maps_to_a_shard_that_lacks_it_is_reported()
    {
        var indexPath = WriteIndex("""{"weight_map":{"x":"s1.safetensors","ghost":"s1.safetensors"}}""");
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadLayout(indexPath));
        Assert.Contains("'ghost'", e.Message);
        Assert.Contains("missing from it", e.Message);
    }

    [Fact]
    public void A_shard_tensor_the_index_does_not_map_there_is_reported()
    {
        // s2 is a copy of s1: it holds x, which the index places in s1.
        var indexPath = WriteIndex("""{"weight_map":{"x":"s1.safetensors","y":"s2.safetensors"}}""");
        File.Copy(_dir.File("s1.safetensors"), _dir.File("s2.safetensors"));

        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadLayout(indexPath));

        Assert.Contains("does not map", e.Message);
    }

    [Fact]
    public void An_index_pointing_outside_its_directory_is_refused()
    {
        var indexPath = WriteIndex("""{"weight_map":{"x":"../s1.safetensors"}}""");
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadLayout(indexPath));
        Assert.Contains("not a file name", e.Message);
    }

    [Fact]
    public void An_index_without_a_weight_map_is_refused()
    {
        var indexPath = WriteIndex("""{"metadata":{}}""");
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadLayout(indexPath));
        Assert.StartsWith(indexPath, e.Message);
        Assert.Contains("weight_map", e.Message);
    }

    [Fact]
    public void A_zero_shard_limit_is_refused()
    {
        using var weights = Weights();
        Assert.Throws<ArgumentOutOfRangeException>(() => Checkpoint.Save(_dir.Path, weights, null, 0));
    }

    /// <summary>Writes s1.safetensors holding tensor x, and an index with the given JSON.</summary>
    private string WriteIndex(string json)
    {
        _dir.Write("s1.safetensors", SafetensorsBytes.File("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]));
        var path = _dir.File(Checkpoint.IndexFileName);
        File.WriteAllText(path, json);
        return path;
    }
}
