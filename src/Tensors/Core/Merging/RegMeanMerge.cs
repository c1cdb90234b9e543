using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>Options of <c>regmean</c>: <c>alpha</c> in [0, 1], the scale applied to the Grams' off-diagonal entries.</summary>
public sealed record RegMeanOptions(double Alpha = 0.9)
{
    public static RegMeanOptions Default { get; } = new();

    public static RegMeanOptions Parse(IReadOnlyDictionary<string, string>? values)
    {
        var p = new MergeParameters(RegMeanMerge.MethodName, values, "alpha");
        return new RegMeanOptions(p.Double("alpha", 0.9)).Validated();
    }

    public RegMeanOptions Validated()
    {
        MergeParameters.Require(RegMeanMerge.MethodName, "alpha", Alpha, Alpha >= 0 && Alpha <= 1, "in [0, 1]");
        return this;
    }
}

/// <summary>
/// <c>regmean</c>: Regression Mean. For each linear weight W_k [out, in] with a Gram matrix
/// G_k = X_kᵀX_k [in, in] of its inputs (<see cref="MergeInputs.Grams"/>), the merged weight solves the
/// least-squares problem min Σ_k ‖X_k Wᵀ − X_k W_kᵀ‖²:
/// W = (Σ_k W_k G̃_k)(Σ_k G̃_k)⁻¹, computed with torch.linalg.solve (no explicit inverse), where
/// G̃_k = α·G_k + (1 − α)·diag(G_k) shrinks the off-diagonal entries by α (the paper's regularisation;
/// α = 1 is plain RegMean, α = 0 a per-input-column weighted mean).
/// Reference: Jin et al. 2023, Dataless Knowledge Fusion by Merging Weights of Language Models,
/// https://arxiv.org/abs/2212.09849. Tensors with no Gram (biases, embeddings, norms) → plain average.
/// Parameters: <c>alpha</c> (default 0.9). Linear in each model: see <see cref="IncrementalRegMean"/>.
/// </summary>
public sealed class RegMeanMerge : IMergeMethod
{
    public const string MethodName = "regmean";

    public RegMeanMerge(RegMeanOptions? options = null) => Options = (options ?? RegMeanOptions.Default).Validated();

    public RegMeanOptions Options { get; }
    public string Name => MethodName;

    public WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs) => MergeSupport.Merge(this, models, inputs);

    public TensorMerger Begin(bool hasBase, Device device) => new FunctionMerger(group =>
    {
        var grams = GramsOf(group);
        if (grams is null)
        {
            return MergeSupport.Average(group.Models);
        }
        var first = group.Models[0];
        if (group.Models.Skip(1).All(m => MergeSupport.SameValues(m, first)))
        {
            // W·S·S⁻¹ = W exactly, where a solve would round (frozen layers must stay bit for bit the same).
            return MergeSupport.Float32(first).clone();
        }
        var numerator = zeros(first.shape, ScalarType.Float32, first.device);
        var gramSum = GramSum(grams, Options.Alpha, numerator.device);
        var ridge = Ridge(grams);
        for (var k = 0; k < group.Models.Count; k++)
        {
            numerator.addmm_(MergeSupport.Float32(group.Models[k]), Regularised(grams[k], Options.Alpha, ridge));
        }
        return SolveRight(group.Name, gramSum, numerator);
    });

    /// <summary>
    /// The Gram matrices of the group's tensor, one per model, or null when it is not a 2-D weight
    /// with Grams. A 2-D weight [out, in] needs Grams of shape [in, in].
    /// </summary>
    internal static Tensor[]? GramsOf(TensorGroup group)
    {
        var shape = group.Models[0].shape;
        if (shape.Length != 2)
        {
            if (group.Grams?.Any(g => g is not null) == true)
            {
                throw new EvolverException(
                    $"merge method '{MethodName}': a Gram matrix is given for '{group.Name}', which is not a 2-D linear weight");
            }
            return null;
        }
        return MergeSupport.Statistics(MethodName, "Gram", group.Grams, group.Name, [shape[1], shape[1]]);
    }

    /// <summary>
    /// G̃ = α·G + (1 − α)·diag(G) + ε·I, float32 (a new tensor). The ridge ε (<see cref="Ridge"/>, the same for all
    /// models) keeps the system solvable when an input is zero for every example of every model (a dead ReLU unit):
    /// that input's weight column then comes out as the plain average; elsewhere the change is negligible.
    /// </summary>
    internal static Tensor Regularised(Tensor gram, double alpha, double ridge)
    {
        var g = MergeSupport.Float32(gram);
        var regularised = alpha >= 1 ? g.clone() : g.mul(alpha).add_(g.diagonal().diag(), 1 - alpha);
        regularised.diagonal().add_(ridge);
        return regularised;
    }

    /// <summary>ε = 10⁻⁶ × the mean diagonal entry over all models' Grams of one layer (at least 10⁻¹²).</summary>
    internal static double Ridge(Tensor[] grams) =>
        Math.Max(grams.Average(g => g.diagonal().to(ScalarType.Float32).mean().item<float>()) * 1e-6, 1e-12);

    /// <summary>Σ_k G̃_k, float32.</summary>
    internal static Tensor GramSum(Tensor[] grams, double alpha, Device device)
    {
        var sum = zeros(grams[0].shape, ScalarType.Float32, device);
        var ridge = Ridge(grams);
        foreach (var gram in grams)
        {
            sum.add_(Regularised(gram, alpha, ridge));
        }
        return sum;
    }

    /// <summary>X with X·<paramref name="matrix"/> = <paramref name="rightHandSide"/> (torch.linalg.solve, left = false).</summary>
    internal static Tensor SolveRight(string name, Tensor matrix, Tensor rightHandSide)
    {
        try
        {
            return linalg.solve(matrix, rightHandSide, left: false);
        }
        catch (Exception e) when (e is not EvolverException)
        {
            var reason = e.Message.Split('\n')[0];
            throw new EvolverException(
                $"merge method '{MethodName}': cannot solve for '{name}': the summed Gram matrix is singular ({reason})", e);
        }
    }
}
