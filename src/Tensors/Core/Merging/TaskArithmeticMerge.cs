using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>Options of <c>task-arithmetic</c>: the scale λ of the summed task vectors (any finite number).</summary>
public sealed record TaskArithmeticOptions(double Lambda = 1.0)
{
    public static TaskArithmeticOptions Default { get; } = new();

    public static TaskArithmeticOptions Parse(IReadOnlyDictionary<string, string>? values)
    {
        var p = new MergeParameters(TaskArithmeticMerge.MethodName, values, "lambda");
        return new TaskArithmeticOptions(p.Double("lambda", 1.0)).Validated();
    }

    public TaskArithmeticOptions Validated()
    {
        MergeParameters.Require(TaskArithmeticMerge.MethodName, "lambda", Lambda, double.IsFinite(Lambda), "a finite number");
        return this;
    }
}

/// <summary>
/// <c>task-arithmetic</c>: base + λ·Σ_k (x_k − base), the sum of the task vectors added to the base.
/// Reference: Ilharco et al. 2023, Editing Models with Task Arithmetic, https://arxiv.org/abs/2212.04089.
/// Parameters: <c>lambda</c> (default 1.0). Needs <see cref="MergeInputs.Base"/>.
/// </summary>
public sealed class TaskArithmeticMerge : IMergeMethod
{
    public const string MethodName = "task-arithmetic";

    public TaskArithmeticMerge(TaskArithmeticOptions? options = null) =>
        Options = (options ?? TaskArithmeticOptions.Default).Validated();

    public TaskArithmeticOptions Options { get; }
    public string Name => MethodName;

    public WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs) => MergeSupport.Merge(this, models, inputs);

    public TensorMerger Begin(bool hasBase, Device device)
    {
        MergeSupport.RequireBase(MethodName, hasBase);
        return new FunctionMerger(group =>
        {
            var b = MergeSupport.Base(MethodName, group);
            var vectors = zeros(b.shape, ScalarType.Float32, b.device);
            foreach (var model in group.Models)
            {
                vectors.add_(model).sub_(b);
            }
            return vectors.mul_(Options.Lambda).add_(b);
        });
    }
}
