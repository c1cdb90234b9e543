using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Storage;

public sealed class WeightStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly long _liveAtStart = WeightSet.LiveTensors;

    public void Dispose()
    {
        _dir.Dispose();
        Assert.Equal(_liveAtStart, WeightSet.LiveTensors);
    }

    [Fact]
    public void Written_weights_load_back_equal_under_their_id()
    {
        var store = new WeightStore(_dir.File("weights"));
        using (var weights = StorageFixtures.Tiny(3f))
        {
            Assert.True(store.Write("m0-g1.child_7", weights));
        }
        Assert.True(store.Contains("m0-g1.child_7"));
        Assert.Equal(Path.Combine(store.Directory, "m0-g1.child_7.safetensors"), store.PathOf("m0-g1.child_7"));

        using var loaded = store.Load("m0-g1.child_7");
        Assert.Equal(["layer.steps", "layer.weight"], loaded.Names.Order(StringComparer.Ordinal));
        Assert.Equal([3f, 4f, 5f, 6f, 7f, 8f], StorageFixtures.Floats(loaded, "layer.weight"));
        Assert.Equal([1L, 2L, 3L, 3L], loaded["layer.steps"].data<long>().ToArray());
        Assert.Equal([2L, 3L], loaded["layer.weight"].shape);
    }

    [Fact]
    public void An_existing_id_is_never_overwritten()
    {
        var store = new WeightStore(_dir.Path);
        using (var first = StorageFixtures.Tiny(1f))
        using (var second = StorageFixtures.Tiny(9f))
        {
            Assert.True(store.Write("a", first));
            Assert.False(store.Write("a", second));
        }
        using var loaded = store.Load("a");
        Assert.Equal(1f, StorageFixtures.Floats(loaded, "layer.weight")[0]);
    }

    [Fact]
    public void Ids_lists_stored_weights_only()
    {
        var store = new WeightStore(_dir.Path);
        using (var weights = StorageFixtures.Tiny())
        {
            store.Write("b", weights);
            store.Write("a", weights);
        }
        File.WriteAllText(Path.Combine(_dir.Path, "notes.txt"), "x");
        File.WriteAllText(Path.Combine(_dir.Path, ".b.safetensors.123.tmp"), "x");
        Assert.Equal(["a", "b"], store.Ids());
        Assert.False(store.Contains("c"));
    }

    [Fact]
    public void Temp_files_left_by_a_crash_are_deleted_and_stored_ids_kept()
    {
        var store = new WeightStore(_dir.Path);
        using (var weights = StorageFixtures.Tiny())
        {
            store.Write("kept", weights);
        }
        File.WriteAllText(Path.Combine(_dir.Path, ".half.safetensors.0123abcd.tmp"), "x");
        File.WriteAllText(Path.Combine(_dir.Path, "other.tmp"), "x");
        Assert.Equal(1, store.DeleteTempFiles());
        Assert.Equal(["kept"], store.Ids());
        Assert.True(File.Exists(Path.Combine(_dir.Path, "other.tmp")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("ä")]
    public void Invalid_ids_are_refused(string id)
    {
        var store = new WeightStore(_dir.Path);
        var e = Assert.Throws<EvolverException>(() => store.PathOf(id));
        Assert.Contains("weight id", e.Message);
    }

    [Fact]
    public void A_101_character_id_is_refused() =>
        Assert.Throws<EvolverException>(() => new WeightStore(_dir.Path).PathOf(new string('x', 101)));

    [Fact]
    public void A_missing_file_names_the_id_and_path()
    {
        var store = new WeightStore(_dir.Path);
        var e = Assert.Throws<WeightFileException>(() => store.Load("ghost"));
        Assert.Equal("ghost", e.Id);
        Assert.Equal(store.PathOf("ghost"), e.Path);
        Assert.Contains("'ghost'", e.Message);
        Assert.Contains(store.PathOf("ghost"), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_truncated_file_names_the_id_path_and_problem()
    {
        var store = new WeightStore(_dir.Path);
        using (var weights = StorageFixtures.Tiny())
        {
            store.Write("cut", weights);
        }
        var path = store.PathOf("cut");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);

        var e = Assert.Throws<WeightFileException>(() => store.Load("cut"));
        Assert.Equal("cut", e.Id);
        Assert.Equal(path, e.Path);
        Assert.Contains("truncated", e.Message);
        Assert.Contains(path, e.Message);
        Assert.IsType<CheckpointFormatException>(e.InnerException);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_file_that_is_not_safetensors_is_refused()
    {
        var store = new WeightStore(_dir.Path);
        File.WriteAllText(store.PathOf("junk"), "this is not a checkpoint at all");
        var e = Assert.Throws<WeightFileException>(() => store.Load("junk"));
        Assert.Equal("junk", e.Id);
    }

    [Fact]
    public void DeleteAllBut_keeps_only_the_given_ids_and_counts_what_went()
    {
        var store = new WeightStore(_dir.Path);
        foreach (var id in new[] { "init-0", "init-1", "o-a", "o-b" })
        {
            using var weights = StorageFixtures.Tiny(1f);
            store.Write(id, weights);
        }
        File.WriteAllText(Path.Combine(_dir.Path, "notes.txt"), "not a weight file");
        var size = store.SizeOf("o-a");

        var (files, bytes) = store.DeleteAllBut(new HashSet<string>(["init-1", "o-b"]));

        Assert.Equal((3 - 1, 2 * size), (files, bytes));
        Assert.Equal(["init-1", "o-b"], store.Ids());
        Assert.True(File.Exists(Path.Combine(_dir.Path, "notes.txt")), "only weight files are touched");
        Assert.Equal((0, 0L), store.DeleteAllBut(new HashSet<string>(["init-1", "o-b"])));
    }
}
