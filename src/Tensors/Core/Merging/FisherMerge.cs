using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>Options of <c>fisher</c>: <c>epsilon</c> ≥ 0 (finite), the floor added to every Fisher value.</summary>
public sealed record FisherOptions(double Epsilon = 1e-8)
{
    public static FisherOptions Default { get; } = new();

    public static FisherOptions Parse(IReadOnlyDictionary<string, string>? values)
    {
        var p = new MergeParameters(FisherMerge.MethodName, values, "epsilon");
        return new FisherOptions(p.Double("epsilon", 1e-8)).Validated();
    }

    public FisherOptions Validated()
    {
        MergeParameters.Require(FisherMerge.MethodName, "epsilon", Epsilon, double.IsFinite(Epsilon) && Epsilon >= 0, "a finite number ≥ 0");
        return this;
    }
}

/// <summary>
/// <c>fisher</c>: Fisher-weighted averaging, element-wise Σ_k F_k·x_k / Σ_k F_k with the diagonal
/// Fisher information F_k of each model (<see cref="MergeInputs.Fisher"/>).
/// Reference: Matena and Raffel 2022, Merging Models with Fisher-Weighted Averaging,
/// https://arxiv.org/abs/2111.09832.
/// As in the paper's code (its "fisher floor"), every F_k is floored by adding epsilon, so the
/// denominator never vanishes and elements whose Fisher is zero in every model fall back to the plain
/// mean: result = Σ (F_k + ε)·x_k / Σ (F_k + ε). Tensors with no Fisher → plain average.
/// Parameters: <c>epsilon</c> (default 1e-8). Linear in each model: see <see cref="IncrementalFisher"/>.
/// </summary>
public sealed class FisherMerge : IMergeMethod
{
    public const string MethodName = "fisher";

    public FisherMerge(FisherOptions? options = null) => Options = (options ?? FisherOptions.Default).Validated();

    public FisherOptions Options { get; }
    public string Name => MethodName;

    public WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs) => MergeSupport.Merge(this, models, inputs);

    public TensorMerger Begin(bool hasBase, Device device) => new FunctionMerger(group =>
    {
        var fishers = FishersOf(group);
        if (fishers is null)
        {
            return MergeSupport.Average(group.Models);
        }
        var (numerator, denominator) = Sums(group.Models, fishers, Options.Epsilon);
        return numerator.div_(denominator);
    });

    /// <summary>The Fisher tensors of the group's tensor, one per model, or null when it has none.</summary>
    internal static Tensor[]? FishersOf(TensorGroup group) =>
        MergeSupport.Statistics(MethodName, "Fisher", group.Fisher, group.Name, group.Models[0].shape);

    /// <summary>Σ (F_k + ε)·x_k and Σ (F_k + ε), both float32.</summary>
    internal static (Tensor Numerator, Tensor Denominator) Sums(IReadOnlyList<Tensor> models, Tensor[] fishers, double epsilon)
    {
        var first = models[0];
        var numerator = zeros(first.shape, ScalarType.Float32, first.device);
        var denominator = zeros(first.shape, ScalarType.Float32, first.device);
        for (var k = 0; k < models.Count; k++)
        {
            var weight = MergeSupport.Float32(fishers[k]).add(epsilon);
            numerator.addcmul_(weight, MergeSupport.Float32(models[k]), 1);
            denominator.add_(weight);
        }
        return (numerator, denominator);
    }
}
