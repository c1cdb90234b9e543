using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Search;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Merging.MergeTestData;

namespace EvolverActors.Tests.Search;

public sealed class EvolvedCoefficientsTests
{
    [Fact]
    public void The_search_finds_per_layer_weights_that_no_single_weight_per_model_can_match()
    {
        using var a = Set(("fc1.weight", [1, 0], [2]), ("fc2.weight", [0, 1], [2]));
        using var b = Set(("fc1.weight", [0, 1], [2]), ("fc2.weight", [1, 0], [2]));
        // The best merge on "dev" is 0.2a + 0.8b in fc1 and 0.9a + 0.1b in fc2.
        using var target = Set(("fc1.weight", [0.2f, 0.8f], [2]), ("fc2.weight", [0.1f, 0.9f], [2]));
        double Dev(WeightSet merged) => -merged.Names.Sum(n => (merged[n] - target[n]).square().sum().item<float>());

        var found = EvolvedCoefficients.Search([a, b], Dev, budget: 300, seed: 1);

        Assert.Equal(300, found.Evaluations);
        Assert.Equal(1, found.Improvements[0].Evaluation); // the equal-weight average is scored first
        Assert.Equal(found.Dev, found.Improvements[^1].Dev);
        Assert.Equal(0.2, found.LayerWeights["fc1"][0], 2);
        Assert.Equal(0.9, found.LayerWeights["fc2"][0], 2);
        Assert.All(found.LayerWeights.Values, w => Assert.Equal(1.0, w.Sum(), 9));
        using var merged = new LinearMerge(found.Options).Merge([a, b], MergeInputs.None);
        Assert.Equal(found.Dev, Dev(merged), 6);
    }

    [Fact]
    public void A_budget_of_one_scores_the_average_only()
    {
        using var a = Vector(1, 2);
        using var b = Vector(3, 4);
        var scored = 0;
        var found = EvolvedCoefficients.Search([a, b], _ => ++scored, budget: 1, seed: 1);
        Assert.Equal((1, 1), (found.Evaluations, scored));
        Assert.Equal([0.5, 0.5], found.LayerWeights["w"]);
        Assert.Throws<Tensors.EvolverException>(() => EvolvedCoefficients.Search([a], _ => 0, budget: 5, seed: 1));
    }
}
