using EvolverActors.Tensors.Native;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Native;

public sealed class LinearCombinationKernelTests
{
    [Fact]
    public void Weighted_sum_matches_torch_across_chunk_and_block_edges()
    {
        using var scope = NewDisposeScope();
        const long N = (1 << 18) + 2048 + 5; // one full chunk, one full block and a ragged tail
        var a = randn(N);
        var b = randn(N);
        var c = randn(N);
        var destination = empty(N);
        Assert.True(LinearCombinationKernel.TryRun(destination, [a, b, c], [0.5f, -2f, 3f]));
        var expected = (a * 0.5f) + (b * -2f) + (c * 3f);
        Assert.True(destination.allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Destination_may_be_one_of_the_sources()
    {
        using var scope = NewDisposeScope();
        var merged = tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 });
        var child = full(10, 5f);
        var old = full(10, 1f);
        Assert.True(LinearCombinationKernel.TryRun(merged, [merged, child, old], [1f, 0.25f, -0.25f]));
        Assert.Equal([2f, 3, 4, 5, 6, 7, 8, 9, 10, 11], merged.data<float>().ToArray());
    }

    [Fact]
    public void Non_float32_tensors_are_left_to_torch()
    {
        using var scope = NewDisposeScope();
        var half = zeros(4, ScalarType.Float16);
        Assert.False(LinearCombinationKernel.TryRun(half, [half], [1f]));
    }
}
