using EvolverActors.Tensors.Native;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Native;

public sealed class AccumulateKernelTests
{
    private const long Ragged = (1 << 18) + 37; // one full chunk and a tail shorter than a vector

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void Each_element_is_one_fused_multiply_add_of_the_widened_source(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        // Fixed data: the double reference below could differ by a double-rounding tie on rare random inputs.
        var source = randn(Ragged, generator: new Generator(11)).to(dtype);
        var start = randn(Ragged, generator: new Generator(12));
        var sum = start.clone();
        Assert.True(AccumulateKernel.TryRun(sum, source, 0.125f));

        // The reference in double: widening is exact, and a float32 FMA is the double product-sum rounded once
        // (a product of two float32 is exact in double; the sum then rounds once to float32 in all but double-rounding
        // ties, which this data does not hit).
        var expected = (source.to(ScalarType.Float64) * 0.125 + start.to(ScalarType.Float64)).to(ScalarType.Float32);
        Assert.Equal(0, sum.ne(expected).sum().item<long>());
    }

    [Fact]
    public void Ineligible_tensors_are_left_to_torch_untouched()
    {
        using var scope = NewDisposeScope();
        var sum = zeros(8);
        Assert.False(AccumulateKernel.TryRun(sum, ones(8, ScalarType.Float64), 1f));
        Assert.False(AccumulateKernel.TryRun(sum, ones(9), 1f));
        Assert.False(AccumulateKernel.TryRun(zeros(8, ScalarType.BFloat16), ones(8), 1f));
        Assert.False(AccumulateKernel.TryRun(sum, ones(16)[TensorIndex.Slice(step: 2)], 1f));
        Assert.Equal(0f, sum.abs().sum().item<float>());
    }
}
