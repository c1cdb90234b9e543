using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Search;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Actors.Lineage;

/// <summary>
/// The child of a coefficient recipe: the <c>linear</c> merge of its inputs (target first, then parents: the members in
/// slot order) with the per-layer softmax of its logits (docs/architecture.md §1). Element-wise on the CPU, so a rebuild
/// gives the bits the run scored, which the content hash checks.
/// </summary>
public static class CoefficientChild
{
    /// <summary>The merge options a coefficient recipe stands for, given its members' tensor names.</summary>
    public static LinearOptions Options(Recipe recipe, IEnumerable<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var logits = recipe.Coefficients ?? throw new ArgumentException($"recipe {recipe.Sequence} is not a coefficient recipe", nameof(recipe));
        var models = recipe.ParentWeights.Length + 1;
        return new LinearOptions { LayerWeights = CoefficientSearch.WeightsOf(logits, LayerGroups.Of(tensorNames), models) };
    }

    /// <summary>Merges <paramref name="inputs"/> (in <see cref="Recipe.Inputs"/> order) as <paramref name="recipe"/> says; the caller owns the result.</summary>
    public static WeightSet Build(Recipe recipe, IReadOnlyList<WeightSet> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return new LinearMerge(Options(recipe, inputs[0].Names)).Merge(inputs, MergeInputs.None);
    }
}
