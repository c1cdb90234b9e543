using EvolverActors.Tensors;
using EvolverActors.Tensors.Merging;
using Xunit;

namespace EvolverActors.Tests.Merging;

/// <summary>Names, key=value parameters and their errors.</summary>
public sealed class MergeRegistryTests
{
    [Fact]
    public void Every_method_is_registered_under_its_stable_name()
    {
        Assert.Equal(["average", "task-arithmetic", "ties", "dare", "fisher", "regmean", "linear"], MergeRegistry.Names);
        foreach (var name in MergeRegistry.Names)
        {
            Assert.Equal(name, MergeRegistry.Get(name).Name);
        }
    }

    [Fact]
    public void An_unknown_method_fails_and_lists_the_known_names()
    {
        var error = Assert.Throws<EvolverException>(() => MergeRegistry.Get("slerp"));

        Assert.Equal(
            "unknown merge method 'slerp'; known methods: average, task-arithmetic, ties, dare, fisher, regmean, linear",
            error.Message);
    }

    [Fact]
    public void Parameters_are_parsed_from_key_values_with_defaults_for_the_rest()
    {
        var ties = Assert.IsType<TiesMerge>(MergeRegistry.Get("ties", ["density=0.3", "LAMBDA = 0.7"]));
        var dare = Assert.IsType<DareMerge>(MergeRegistry.Get("dare", ["drop_rate=0.25", "seed=9"]));
        var fisher = Assert.IsType<FisherMerge>(MergeRegistry.Get("fisher"));
        var regmean = Assert.IsType<RegMeanMerge>(MergeRegistry.Get("regmean", new Dictionary<string, string> { ["alpha"] = "0.5" }));

        Assert.Equal(new TiesOptions(0.3, 0.7), ties.Options);
        Assert.Equal(new DareOptions(0.25, 1.0, 9), dare.Options);
        Assert.Equal(1e-8, fisher.Options.Epsilon);
        Assert.Equal(0.5, regmean.Options.Alpha);
        Assert.Equal(1.0, Assert.IsType<TaskArithmeticMerge>(MergeRegistry.Get("task-arithmetic")).Options.Lambda);
        Assert.Equal(0.2, new TiesMerge().Options.Density);
        Assert.Equal(0.5, new DareMerge().Options.DropRate);
        Assert.Equal(0.9, new RegMeanMerge().Options.Alpha);
    }

    [Fact]
    public void An_unknown_parameter_fails_and_lists_the_methods_parameters()
    {
        var ties = Assert.Throws<EvolverException>(() => MergeRegistry.Get("ties", ["k=3"]));
        var average = Assert.Throws<EvolverException>(() => MergeRegistry.Get("average", ["lambda=1"]));

        Assert.Equal("merge method 'ties' has no parameter 'k'; its parameters are: density, lambda", ties.Message);
        Assert.Equal("merge method 'average' has no parameter 'lambda'; it takes no parameters", average.Message);
    }

    [Theory]
    [InlineData("ties", "density=0", "parameter 'density' must be in (0, 1], got 0")]
    [InlineData("ties", "density=1.5", "parameter 'density' must be in (0, 1], got 1.5")]
    [InlineData("dare", "drop-rate=1", "parameter 'drop-rate' must be in [0, 1), got 1")]
    [InlineData("dare", "drop-rate=-0.1", "parameter 'drop-rate' must be in [0, 1), got -0.1")]
    [InlineData("task-arithmetic", "lambda=NaN", "parameter 'lambda' must be a finite number, got NaN")]
    [InlineData("ties", "lambda=Infinity", "parameter 'lambda' must be a finite number")]
    [InlineData("regmean", "alpha=1.01", "parameter 'alpha' must be in [0, 1], got 1.01")]
    [InlineData("fisher", "epsilon=-1", "parameter 'epsilon' must be a finite number ≥ 0, got -1")]
    [InlineData("task-arithmetic", "lambda=big", "parameter 'lambda' must be a number, got 'big'")]
    [InlineData("dare", "seed=-3", "parameter 'seed' must be a non-negative integer, got '-3'")]
    public void An_out_of_range_or_malformed_value_fails_clearly(string method, string pair, string expected)
    {
        var error = Assert.Throws<EvolverException>(() => MergeRegistry.Get(method, [pair]));

        Assert.Contains($"merge method '{method}': {expected}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_built_directly_are_validated_too()
    {
        Assert.Throws<EvolverException>(() => new TiesMerge(new TiesOptions(Density: 2)));
        Assert.Throws<EvolverException>(() => new DareMerge(new DareOptions(DropRate: 1)));
        Assert.Throws<EvolverException>(() => new RegMeanMerge(new RegMeanOptions(Alpha: -0.5)));
    }

    [Theory]
    [InlineData("lambda", "merge parameter 'lambda' is not of the form key=value")]
    [InlineData("=3", "merge parameter '=3' is not of the form key=value")]
    public void A_pair_without_a_key_and_value_fails_clearly(string pair, string expected)
    {
        var error = Assert.Throws<EvolverException>(() => MergeParameters.ParseKeyValues([pair]));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void A_parameter_given_twice_fails_clearly()
    {
        var error = Assert.Throws<EvolverException>(() => MergeParameters.ParseKeyValues(["lambda=1", "Lambda=2"]));

        Assert.Equal("merge parameter 'lambda' is given twice", error.Message);
    }
}
