using System.Text.RegularExpressions;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>Options of <c>average</c>: none.</summary>
public sealed record AverageOptions
{
    public static AverageOptions Default { get; } = new();

    public static AverageOptions Parse(IReadOnlyDictionary<string, string>? values)
    {
        _ = new MergeParameters(AverageMerge.MethodName, values);
        return Default;
    }
}

/// <summary>
/// <c>average</c>: the element-wise mean of the models ("model soups", uniform soup).
/// Reference: Wortsman et al. 2022, Model soups, https://arxiv.org/abs/2203.05482.
/// Parameters: none.
/// </summary>
public sealed class AverageMerge : IMergeMethod
{
    public const string MethodName = "average";

    public AverageMerge(AverageOptions? options = null) => Options = options ?? AverageOptions.Default;

    public AverageOptions Options { get; }
    public string Name => MethodName;

    public WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs) => MergeSupport.Merge(this, models, inputs);

    public TensorMerger Begin(bool hasBase, Device device) => new FunctionMerger(group => MergeSupport.Average(group.Models));

    /// <summary>
    /// The best full rebuild of an average into an existing set, in place (the baseline that the
    /// incremental update is measured against): on CPU float32 one fused pass (each member read once, the
    /// destination written once); elsewhere zero, then add_ each member with alpha 1/N, no stacking.
    /// Float32 destinations accumulate directly; f16/bf16 ones through one float32 temporary per tensor.
    /// Integer and excluded tensors are copied from members[0].
    /// </summary>
    public static void RebuildInto(WeightSet destination, IReadOnlyList<WeightSet> members, Regex? exclude = null)
    {
        var inputs = new MergeInputs { Exclude = exclude };
        MergeSupport.Validate(MethodName, members, inputs);
        WeightLayout.RequireSame(members[0].Layout, "member 0", destination.Layout, "the destination");
        var share = 1.0 / members.Count;
        for (var i = 0; i < destination.Count; i++)
        {
            using var scope = NewDisposeScope();
            using var ng = no_grad();
            var target = destination[i];
            if (!MergeSupport.IsMerged(destination.Names[i], target, inputs))
            {
                target.copy_(members[0][i]);
                continue;
            }
            var shares = Enumerable.Repeat((float)share, members.Count).ToArray();
            if (Native.LinearCombinationKernel.TryRun(target, [.. members.Select(m => m[i])], shares))
            {
                continue; // one fused pass: every member read once, the destination written once
            }
            var direct = target.dtype == ScalarType.Float32;
            var sum = direct ? target : zeros(target.shape, ScalarType.Float32, target.device);
            if (direct)
            {
                sum.zero_();
            }
            foreach (var member in members)
            {
                MergeSupport.Accumulate(sum, member[i], share);
            }
            if (!direct)
            {
                target.copy_(sum);
            }
        }
    }
}
