using EvolverActors.Tensors;
using EvolverActors.Tensors.Merging;
using Xunit;
using static EvolverActors.Tests.Merging.MergeTestData;

namespace EvolverActors.Tests.Merging;

/// <summary>fisher and regmean on hand-computed tiny tensors.</summary>
public sealed class StatisticMergeTests
{
    [Fact]
    public void Fisher_weights_each_element_by_its_fisher_and_averages_tensors_without_one()
    {
        // w: F_a = [1,3,0,2], F_b = [3,1,0,2]
        //   element 0: (1·1 + 3·5)/4 = 4; element 1: (3·2 + 1·6)/4 = 3;
        //   element 2: no information in either → plain mean (3 + 7)/2 = 5; element 3: (2·4 + 2·8)/4 = 6
        // bias has no Fisher: (1 + 3)/2 = 2, (2 + 6)/2 = 4
        using var a = Set(("w", [1, 2, 3, 4], [4]), ("bias", [1, 2], [2]));
        using var b = Set(("w", [5, 6, 7, 8], [4]), ("bias", [3, 6], [2]));
        using var fa = Vector(1, 3, 0, 2);
        using var fb = Vector(3, 1, 0, 2);

        using var merged = MergeRegistry.Get("fisher").Merge([a, b], new MergeInputs { Fisher = [fa, fb] });

        AssertClose([4, 3, 5, 6], merged["w"]);
        AssertClose([2, 4], merged["bias"]);
    }

    [Fact]
    public void Fisher_weights_one_and_three_give_the_weighted_mean()
    {
        using var a = Vector(1, 2, 3, 4);
        using var b = Vector(5, 6, 7, 8);
        using var fa = Vector(1, 1, 1, 1);
        using var fb = Vector(3, 3, 3, 3);

        using var merged = new FisherMerge().Merge([a, b], new MergeInputs { Fisher = [fa, fb] });

        AssertClose([4, 5, 6, 7], merged["w"]);
    }

    [Fact]
    public void Fisher_for_only_some_models_is_rejected()
    {
        using var a = Vector(1, 2);
        using var b = Vector(3, 4);
        using var fa = Vector(1, 1);
        using var empty = Set();

        var error = Assert.Throws<EvolverException>(() =>
            new FisherMerge().Merge([a, b], new MergeInputs { Fisher = [fa, empty] }));

        Assert.Contains("given for 1 of 2 models", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regmean_with_diagonal_grams_is_a_per_input_column_weighted_mean()
    {
        // G1 = diag(1, 3), G2 = diag(3, 1): column 0 weighs the models 1:3, column 1 weighs them 3:1.
        //   W[:,0] = (1·[1,3] + 3·[5,7])/4 = [4, 6];  W[:,1] = (3·[2,4] + 1·[6,8])/4 = [3, 5]
        using var w1 = Matrix(1, 2, 3, 4);
        using var w2 = Matrix(5, 6, 7, 8);
        using var g1 = Matrix(1, 0, 0, 3);
        using var g2 = Matrix(3, 0, 0, 1);

        using var merged = MergeRegistry.Get("regmean").Merge([w1, w2], new MergeInputs { Grams = [g1, g2] });

        AssertClose([4, 3, 6, 5], merged["linear.weight"]);
    }

    [Fact]
    public void Regmean_with_alpha_one_solves_the_least_squares_merge()
    {
        // G1 = [[2,1],[1,1]], G2 = I; S = G1 + G2 = [[3,1],[1,2]], S⁻¹ = [[2,-1],[-1,3]]/5
        // W1 = I → W1·G1 = [[2,1],[1,1]];  W2 = [[1,1],[0,2]] → W2·G2 = W2;  N = [[3,2],[1,3]]
        // W = N·S⁻¹ = [[6-2, -3+6], [2-3, -1+9]]/5 = [[0.8, 0.6], [-0.2, 1.6]]
        using var w1 = Matrix(1, 0, 0, 1);
        using var w2 = Matrix(1, 1, 0, 2);
        using var g1 = Matrix(2, 1, 1, 1);
        using var g2 = Matrix(1, 0, 0, 1);

        using var merged = MergeRegistry.Get("regmean", ["alpha=1"]).Merge([w1, w2], new MergeInputs { Grams = [g1, g2] });

        AssertClose([0.8f, 0.6f, -0.2f, 1.6f], merged["linear.weight"]);
    }

    [Fact]
    public void Regmean_with_alpha_zero_ignores_the_off_diagonal_entries()
    {
        // α = 0 keeps diag(G1) = diag(2, 1), diag(G2) = diag(1, 1):
        //   W[:,0] = (2·[1,0] + 1·[1,0])/3 = [1, 0];  W[:,1] = (1·[0,1] + 1·[1,2])/2 = [0.5, 1.5]
        using var w1 = Matrix(1, 0, 0, 1);
        using var w2 = Matrix(1, 1, 0, 2);
        using var g1 = Matrix(2, 1, 1, 1);
        using var g2 = Matrix(1, 0, 0, 1);

        using var merged = new RegMeanMerge(new RegMeanOptions(Alpha: 0)).Merge([w1, w2], new MergeInputs { Grams = [g1, g2] });

        AssertClose([1, 0.5f, 0, 1.5f], merged["linear.weight"]);
    }

    [Fact]
    public void Regmean_averages_tensors_without_grams_and_columns_whose_inputs_never_fire()
    {
        using var a = Set(("linear.weight", [1, 2, 3, 4], [2, 2]), ("linear.bias", [1, 2], [2]));
        using var b = Set(("linear.weight", [3, 4, 5, 6], [2, 2]), ("linear.bias", [3, 4], [2]));
        using var zero = Matrix(0, 0, 0, 0);

        using var merged = new RegMeanMerge().Merge([a, b], MergeInputs.None);
        AssertClose([2, 3, 4, 5], merged["linear.weight"]);
        AssertClose([2, 3], merged["linear.bias"]);

        // All-zero Grams (no input ever fired): the ridge makes every column the plain average.
        using var dead = new RegMeanMerge().Merge([a, b], new MergeInputs { Grams = [zero, zero] });
        AssertClose([2, 3, 4, 5], dead["linear.weight"]);

        // Input 1 is dead in both models (a dead ReLU unit): column 0 is Gram-weighted (4 : 1), column 1 averaged.
        // column 0: (1·4 + 3·1)/5 = 1.4 and (3·4 + 5·1)/5 = 3.4; column 1: (2 + 4)/2 = 3 and (4 + 6)/2 = 5.
        using var ga = Matrix(4, 0, 0, 0);
        using var gb = Matrix(1, 0, 0, 0);
        using var partial = new RegMeanMerge(new RegMeanOptions(Alpha: 1)).Merge([a, b], new MergeInputs { Grams = [ga, gb] });
        AssertClose([1.4f, 3, 3.4f, 5], partial["linear.weight"]);
    }

    [Fact]
    public void Regmean_of_models_that_share_a_weight_gives_that_weight_back_bit_for_bit()
    {
        // A frozen layer is the same in every model; a solve would round it, and an evaluator's cache of shared
        // layers compares them. Grams far from the identity make the solve round visibly.
        using var shared = Set(("linear.weight", [0.1f, 1.0f / 3, 2.0f / 7, 0.3f], [2, 2]));
        using var copy = Set(("linear.weight", [0.1f, 1.0f / 3, 2.0f / 7, 0.3f], [2, 2]));
        using var g1 = Matrix(3.7f, 1.1f, 1.1f, 0.9f);
        using var g2 = Matrix(0.3f, 0.2f, 0.2f, 5.1f);

        using var merged = new RegMeanMerge().Merge([shared, copy], new MergeInputs { Grams = [g1, g2] });

        Assert.True(merged["linear.weight"].equal(shared["linear.weight"]).all().item<bool>());
    }
}
