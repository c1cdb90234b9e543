using EvolverActors.Tensors.Native;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Native;

public sealed class FiniteKernelTests
{
    private const long Ragged = (1 << 20) + 3; // more than one chunk for every width, and a tail shorter than a vector

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.Float64)]
    public void Finds_nan_and_infinities_anywhere_and_nothing_in_finite_data(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        // Large finite values too: the largest finite number has every exponent bit but one set.
        var data = (randn(Ragged) * 1e3).to(dtype);
        data[5] = tensor(dtype == ScalarType.Float16 ? 65504.0 : 3.0e38).to(dtype);
        Assert.Equal(true, FiniteKernel.AllFinite(data));
        foreach (var bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            foreach (var at in new[] { 0L, 4097, Ragged - 1 })
            {
                var copy = data.clone();
                copy[at] = tensor(bad).to(dtype);
                Assert.Equal(false, FiniteKernel.AllFinite(copy));
                Assert.Equal(copy.isfinite().all().item<bool>(), FiniteKernel.AllFinite(copy));
            }
        }
    }

    [Fact]
    public void Leaves_integer_strided_and_empty_tensors_to_the_caller()
    {
        using var scope = NewDisposeScope();
        Assert.Null(FiniteKernel.AllFinite(ones(4, ScalarType.Int64)));
        Assert.Null(FiniteKernel.AllFinite(ones(16)[TensorIndex.Slice(step: 2)]));
        Assert.Equal(true, FiniteKernel.AllFinite(empty(0)));
    }
}
