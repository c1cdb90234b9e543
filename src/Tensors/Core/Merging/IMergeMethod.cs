using System.Text.RegularExpressions;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// A merge method X: builds one model from several models of one architecture (docs/architecture.md §1, merged mode).
/// Implementations are stateless apart from their options, so one instance can merge many populations.
/// Each has a stable <see cref="Name"/>, listed by <see cref="MergeRegistry"/>.
/// </summary>
public interface IMergeMethod
{
    /// <summary>The stable name the registry and the CLI use (e.g. <c>ties</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Merges <paramref name="models"/> (same names, shapes and dtypes) into a new weight set that the
    /// caller owns. Floating tensors are computed in float32 and returned in the models' dtype;
    /// integer tensors and tensors matching <see cref="MergeInputs.Exclude"/> are copied from models[0].
    /// </summary>
    WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs);

    /// <summary>
    /// Starts a merge tensor by tensor (for checkpoints that do not fit in memory): the caller gives each tensor's
    /// <see cref="TensorGroup"/> in the models' tensor order and gets what <see cref="Merge"/> would give for it.
    /// <paramref name="hasBase"/> says whether a base model comes with the tensors (a method that needs one fails here
    /// without it); <paramref name="device"/> is where the tensors live.
    /// </summary>
    TensorMerger Begin(bool hasBase, Device device);
}

/// <summary>
/// What a merge may need besides the models. The weight sets here stay owned by the caller.
/// </summary>
public sealed record MergeInputs
{
    /// <summary>No base, no statistics, nothing excluded.</summary>
    public static MergeInputs None { get; } = new();

    /// <summary>The pre-trained model the task vectors are taken from (task-arithmetic, ties, dare).</summary>
    public WeightSet? Base { get; init; }

    /// <summary>
    /// Per-model diagonal Fisher information, one weight set per model, named like the model's tensors
    /// (fisher). A tensor missing from every Fisher set is averaged.
    /// </summary>
    public IReadOnlyList<WeightSet>? Fisher { get; init; }

    /// <summary>
    /// Per-model Gram matrices XᵀX of each linear layer's inputs, keyed by the layer's weight name,
    /// shape [in, in] (regmean). A weight missing from every Gram set is averaged.
    /// </summary>
    public IReadOnlyList<WeightSet>? Grams { get; init; }

    /// <summary>Parameter names that are not merged: they are copied from models[0] (e.g. classifier heads).</summary>
    public Regex? Exclude { get; init; }

    public bool IsExcluded(string name) => Exclude?.IsMatch(name) == true;
}
