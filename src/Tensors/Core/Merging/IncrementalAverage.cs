using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Incremental <c>average</c>: merged += (new − old)/N per tensor, in place (two add_ with alpha ±1/N),
/// with no full-size allocation per call. Compare <see cref="AverageMerge.RebuildInto"/>, the full rebuild.
/// </summary>
public sealed class IncrementalAverage : IncrementalMerge
{
    internal IncrementalAverage(IReadOnlyList<WeightSet> members, MergeInputs inputs, AverageOptions options)
        : base(AverageMerge.MethodName, new AverageMerge(options).Merge(members, inputs), members.Count, inputs)
    {
    }

    private protected override void ReplaceTensor(int slot, int index, Tensor oldTensor, Tensor newTensor) =>
        AverageStep(index, oldTensor, newTensor);

    private protected override void PreviewTensor(int slot, int index, Tensor oldTensor, Tensor newTensor, Tensor destination) =>
        AveragePreview(index, oldTensor, newTensor, destination);

    private protected override bool CanAdd(WeightSet? statistics) => true;

    private protected override bool CanRemove => true;

    private protected override void AddTensor(int index, Tensor tensor, int membersBefore) => AverageAdd(index, tensor, membersBefore);

    private protected override void RemoveTensor(int member, int index, Tensor tensor, int membersBefore) => AverageRemove(index, tensor, membersBefore);
}
