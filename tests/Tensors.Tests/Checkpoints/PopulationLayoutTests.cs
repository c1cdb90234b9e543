using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

public sealed class PopulationLayoutTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Members_with_the_same_layout_pass()
    {
        var a = Member("a", ("w", zeros(2, 3)), ("b", zeros(3)));
        var b = Member("b", ("b", ones(3)), ("w", ones(2, 3)));
        Checkpoint.RequireSameLayout([a, b]);
    }

    [Fact]
    public void A_missing_name_is_reported_with_both_files() =>
        Mismatch(Member("m2", ("w", zeros(2, 3)), ("c", zeros(3))), "'b'", "not in");

    [Fact]
    public void A_different_shape_is_reported_with_both_files() =>
        Mismatch(Member("m2", ("w", zeros(3, 2)), ("b", zeros(3))), "'w'", "shape [2, 3]");

    [Fact]
    public void A_different_dtype_is_reported_with_both_files() =>
        Mismatch(Member("m2", ("w", zeros(2, 3)), ("b", zeros(3).to(ScalarType.Float16))), "'b'", "dtype F32");

    [Fact]
    public void The_first_mismatch_is_reported()
    {
        var first = Member("m1", ("w", zeros(2, 3)), ("b", zeros(3)));
        var good = Member("m2", ("w", zeros(2, 3)), ("b", zeros(3)));
        var bad = Member("m3", ("w", zeros(2, 3)), ("b", zeros(4)));
        var worse = Member("m4", ("x", zeros(1)));

        var e = Assert.Throws<PopulationMismatchException>(() => Checkpoint.RequireSameLayout([first, good, bad, worse]));

        Assert.Contains("m3", e.Message);
        Assert.DoesNotContain("m4", e.Message);
    }

    [Fact]
    public void An_empty_population_is_refused() =>
        Assert.Throws<EvolverException>(() => Checkpoint.RequireSameLayout([]));

    private void Mismatch(string other, string tensorName, string word)
    {
        var first = Member("m1", ("w", zeros(2, 3)), ("b", zeros(3)));
        var e = Assert.Throws<PopulationMismatchException>(() => Checkpoint.RequireSameLayout([first, other]));
        Assert.Contains(first, e.Message);
        Assert.Contains(other, e.Message);
        Assert.Contains(tensorName, e.Message);
        Assert.Contains(word, e.Message);
    }

    private string Member(string name, params (string, Tensor)[] tensors)
    {
        using var scope = NewDisposeScope();
        var path = _dir.File(name + ".safetensors");
        SafetensorsWriter.Write(path, tensors);
        return path;
    }
}
