using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Options of <c>ties</c>: <c>density</c> in (0, 1], the fraction of each task vector's elements kept
/// (largest magnitudes, per tensor), and <c>lambda</c>, the scale of the merged task vector (finite).
/// </summary>
public sealed record TiesOptions(double Density = 0.2, double Lambda = 1.0)
{
    public static TiesOptions Default { get; } = new();

    public static TiesOptions Parse(IReadOnlyDictionary<string, string>? values)
    {
        var p = new MergeParameters(TiesMerge.MethodName, values, "density", "lambda");
        return new TiesOptions(p.Double("density", 0.2), p.Double("lambda", 1.0)).Validated();
    }

    public TiesOptions Validated()
    {
        MergeParameters.Require(TiesMerge.MethodName, "density", Density, Density > 0 && Density <= 1, "in (0, 1]");
        MergeParameters.Require(TiesMerge.MethodName, "lambda", Lambda, double.IsFinite(Lambda), "a finite number");
        return this;
    }
}

/// <summary>
/// <c>ties</c>: TIES-Merging (trim, elect sign, disjoint merge).
/// Reference: Yadav et al. 2023, TIES-Merging: Resolving Interference When Merging Models,
/// https://arxiv.org/abs/2306.01708.
/// Per tensor: each task vector τ_k = x_k − base keeps its top ⌊density·n⌋ elements by magnitude
/// (at least one) and zeroes the rest; the elected sign of each element is the sign of the sum of
/// the trimmed values (a zero sum elects +, as mergekit does); the merged value is the mean of the
/// trimmed values whose sign agrees with the elected one (0 where none does); result = base + λ·merged.
/// Parameters: <c>density</c> (default 0.2), <c>lambda</c> (default 1.0). Needs <see cref="MergeInputs.Base"/>.
/// </summary>
public sealed class TiesMerge : IMergeMethod
{
    public const string MethodName = "ties";

    public TiesMerge(TiesOptions? options = null) => Options = (options ?? TiesOptions.Default).Validated();

    public TiesOptions Options { get; }
    public string Name => MethodName;

    public WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs) => MergeSupport.Merge(this, models, inputs);

    /// <summary>Per tensor: the top-k trim is per tensor (not over the whole model), so it needs no first pass.</summary>
    public TensorMerger Begin(bool hasBase, Device device)
    {
        MergeSupport.RequireBase(MethodName, hasBase);
        return new FunctionMerger(group =>
        {
            var b = MergeSupport.Float32(MergeSupport.Base(MethodName, group));
            // [K, n]: one flattened task vector per model.
            var vectors = stack([.. group.Models.Select(m => MergeSupport.Float32(m).sub(b).flatten())]);
            var trimmed = Trim(vectors, Options.Density);
            var elected = where(trimmed.sum(dim: 0).ge(0), 1.0f, -1.0f);
            var agree = trimmed.sign().eq(elected).to(ScalarType.Float32);
            var count = agree.sum(dim: 0).clamp_min(1);
            var merged = trimmed.mul_(agree).sum(dim: 0).div_(count);
            return merged.mul_(Options.Lambda).reshape(b.shape).add_(b);
        });
    }

    /// <summary>Keeps the top ⌊density·n⌋ (at least one) magnitudes of each row of [K, n], zeroing the rest.</summary>
    internal static Tensor Trim(Tensor vectors, double density)
    {
        var n = vectors.shape[1];
        var keep = Math.Clamp((long)Math.Floor(density * n + 1e-9), 1L, n);
        if (keep == n)
        {
            return vectors;
        }
        var (_, indices) = vectors.abs().topk(checked((int)keep), dim: 1);
        var mask = zeros_like(vectors).scatter_(1, indices, ones(indices.shape, ScalarType.Float32, vectors.device));
        return vectors.mul_(mask);
    }
}
