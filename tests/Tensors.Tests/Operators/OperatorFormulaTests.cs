using EvolverActors.Tensors;
using EvolverActors.Tensors.Operators;
using Xunit;
using static EvolverActors.Tests.Operators.TinyWeights;

namespace EvolverActors.Tests.Operators;

/// <summary>Each operator's mutant on tiny tensors, computed by hand (CR = 1 takes the mutant everywhere).</summary>
public sealed class OperatorFormulaTests
{
    private static readonly BreedingSettings AllMutant = new() { F = 0.5, CR = 1 };

    [Theory]
    [InlineData(KernelPath.Auto)]
    [InlineData(KernelPath.Torch)]
    public void Evolver_interpolates_target_towards_reference(KernelPath path)
    {
        using var target = Vector(1, 2, 3, 4, 5, 6, 7, 8, 9);
        using var reference = Vector(5, 6, 7, 8, 9, 10, 11, 12, 13);
        using var child = OffspringBuilder.Build(OperatorRegistry.Get("evolver"), AllMutant with { F = 0.25 }, 7, target, [reference], path: path);
        // (1 - 0.25)·x + 0.25·ref = x + 1
        Assert.Equal([2, 3, 4, 5, 6, 7, 8, 9, 10], Values(child));
    }

    [Theory]
    [InlineData(KernelPath.Auto)]
    [InlineData(KernelPath.Torch)]
    public void De_rand_1_adds_scaled_difference_to_first_random(KernelPath path)
    {
        using var target = Vector(100, 100);
        using var r1 = Vector(1, 2);
        using var r2 = Vector(10, 20);
        using var r3 = Vector(4, 8);
        using var child = OffspringBuilder.Build(new DeRand1(), AllMutant, 1, target, [r1, r2, r3], path: path);
        // r1 + 0.5·(r2 − r3) = [1 + 3, 2 + 6]
        Assert.Equal([4, 8], Values(child));
    }

    [Fact]
    public void De_best_1_adds_scaled_difference_to_best()
    {
        using var target = Vector(100, 100);
        using var best = Vector(1, 1);
        using var r1 = Vector(6, 2);
        using var r2 = Vector(2, 6);
        using var child = OffspringBuilder.Build(new DeBest1(), AllMutant, 1, target, [best, r1, r2]);
        // best + 0.5·(r1 − r2) = [1 + 2, 1 − 2]
        Assert.Equal([3, -1], Values(child));
    }

    [Fact]
    public void De_current_to_best_1_moves_towards_best_plus_difference()
    {
        using var target = Vector(2, 4);
        using var best = Vector(6, 0);
        using var r1 = Vector(3, 3);
        using var r2 = Vector(1, 1);
        using var child = OffspringBuilder.Build(new DeCurrentToBest1(), AllMutant, 1, target, [best, r1, r2]);
        // x + 0.5·(best − x) + 0.5·(r1 − r2) = [2 + 2 + 1, 4 − 2 + 1]
        Assert.Equal([5, 3], Values(child));
    }

    [Fact]
    public void Crossover_rate_zero_returns_the_target()
    {
        using var target = Vector(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        using var reference = Vector(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        using var child = OffspringBuilder.Build(new EvolverOperator(), new BreedingSettings { CR = 0 }, 3, target, [reference]);
        Assert.Equal(Values(target), Values(child));
    }

    [Fact]
    public void Excluded_tensors_keep_the_target_values()
    {
        using var target = Of(("encoder.w", [1, 1]), ("classifier.w", [1, 1]));
        using var reference = Of(("encoder.w", [3, 3]), ("classifier.w", [3, 3]));
        var settings = AllMutant with { Exclude = new System.Text.RegularExpressions.Regex("^classifier") };
        using var child = OffspringBuilder.Build(new EvolverOperator(), settings, 1, target, [reference]);
        Assert.Equal([2, 2], Values(child, "encoder.w"));
        Assert.Equal([1, 1], Values(child, "classifier.w"));
    }

    [Fact]
    public void Task_vector_space_gives_the_raw_result_for_affine_operators()
    {
        using var target = Random(1, ("w", 1000));
        using var reference = Random(2, ("w", 1000));
        using var baseWeights = Random(3, ("w", 1000));
        var settings = new BreedingSettings { CR = 0.5 };
        using var raw = OffspringBuilder.Build(new EvolverOperator(), settings, 9, target, [reference]);
        using var taskVector = OffspringBuilder.Build(new EvolverOperator(), settings with { Space = WeightSpace.TaskVector }, 9, target, [reference], baseWeights);
        Assert.True(raw["w"].allclose(taskVector["w"], rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Task_vector_space_without_base_is_refused()
    {
        using var target = Vector(1);
        using var reference = Vector(2);
        var e = Assert.Throws<EvolverException>(() => OffspringBuilder.Build(new EvolverOperator(),
            new BreedingSettings { Space = WeightSpace.TaskVector }, 1, target, [reference]));
        Assert.Contains("base", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("evolver", 1.5, 0.5, "F = 1.5")]
    [InlineData("evolver", -0.1, 0.5, "F = -0.1")]
    [InlineData("de-rand-1", 2.5, 0.5, "F = 2.5")]
    [InlineData("evolver", 0.5, 1.2, "CR = 1.2")]
    [InlineData("evolver", double.NaN, 0.5, "F = NaN")]
    public void Out_of_range_F_or_CR_is_refused_with_the_value(string name, double f, double cr, string expected)
    {
        var op = OperatorRegistry.Get(name);
        var e = Assert.Throws<EvolverException>(() => new BreedingSettings { F = f, CR = cr }.Validated(op));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_operator_lists_the_known_ones()
    {
        var e = Assert.Throws<EvolverException>(() => OperatorRegistry.Get("de-rand-2"));
        Assert.Contains("de-rand-1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Half_precision_tensors_breed_through_torch_kernels()
    {
        using var target = Vector(1, 2, 3, 4);
        using var reference = Vector(3, 4, 5, 6);
        using var halfTarget = target.To(TorchSharp.torch.CPU, TorchSharp.torch.ScalarType.BFloat16);
        using var halfReference = reference.To(TorchSharp.torch.CPU, TorchSharp.torch.ScalarType.BFloat16);
        using var child = OffspringBuilder.Build(new EvolverOperator(), AllMutant, 1, halfTarget, [halfReference]);
        Assert.Equal(TorchSharp.torch.ScalarType.BFloat16, child["w"].dtype);
        Assert.Equal([2, 3, 4, 5], child["w"].to_type(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());
    }
}
