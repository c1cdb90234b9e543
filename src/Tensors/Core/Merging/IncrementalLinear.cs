using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Incremental <c>linear</c>: replacing slot i adds share_i·(new − old) to each merged tensor, share_i being the slot's
/// normalized weight in that tensor's layer. The weights belong to the slots, so a member cannot be added or removed
/// (there is no weight for it).
/// </summary>
public sealed class IncrementalLinear : IncrementalMerge
{
    /// <summary>[slot][tensor index]: the slot's normalized weight in that tensor.</summary>
    private readonly double[][] _shares;

    internal IncrementalLinear(IReadOnlyList<WeightSet> members, MergeInputs inputs, LinearOptions options)
        : this(members, inputs, new LinearMerge(options))
    {
    }

    private IncrementalLinear(IReadOnlyList<WeightSet> members, MergeInputs inputs, LinearMerge merge)
        : base(LinearMerge.MethodName, merge.Merge(members, inputs), members.Count, inputs)
    {
        var perTensor = MergedSet.Names.Select(name => merge.SharesOf(name, members.Count)).ToArray();
        _shares = [.. Enumerable.Range(0, members.Count).Select(slot => perTensor.Select(shares => shares[slot]).ToArray())];
    }

    private protected override void ReplaceTensor(int slot, int index, Tensor oldTensor, Tensor newTensor) =>
        WeightedStep(index, oldTensor, newTensor, _shares[slot][index]);

    private protected override void PreviewTensor(int slot, int index, Tensor oldTensor, Tensor newTensor, Tensor destination) =>
        WeightedPreview(index, oldTensor, newTensor, destination, _shares[slot][index]);
}
