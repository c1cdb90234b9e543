using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Options of <c>dare</c>: <c>drop-rate</c> p in [0, 1), the probability of dropping each task-vector
/// element; <c>lambda</c>, the scale of the summed task vectors (finite); <c>seed</c> of the generator.
/// </summary>
public sealed record DareOptions(double DropRate = 0.5, double Lambda = 1.0, ulong Seed = 0)
{
    public static DareOptions Default { get; } = new();

    public static DareOptions Parse(IReadOnlyDictionary<string, string>? values)
    {
        var p = new MergeParameters(DareMerge.MethodName, values, "drop-rate", "lambda", "seed");
        return new DareOptions(p.Double("drop-rate", 0.5), p.Double("lambda", 1.0), p.UInt64("seed", 0)).Validated();
    }

    public DareOptions Validated()
    {
        MergeParameters.Require(DareMerge.MethodName, "drop-rate", DropRate, DropRate >= 0 && DropRate < 1, "in [0, 1)");
        MergeParameters.Require(DareMerge.MethodName, "lambda", Lambda, double.IsFinite(Lambda), "a finite number");
        return this;
    }
}

/// <summary>
/// <c>dare</c>: Drop And REscale, then task arithmetic.
/// Reference: Yu et al. 2024, Language Models are Super Mario: Absorbing Abilities from Homologous
/// Models as a Free Lunch, https://arxiv.org/abs/2311.03099.
/// Each element of each task vector τ_k = x_k − base is dropped with probability p and survivors are
/// scaled by 1/(1−p); result = base + λ·Σ_k τ̂_k. The drop masks come from one torch.Generator seeded
/// with <c>seed</c> per merge, drawn tensor by tensor and model by model in order, so a merge is
/// reproducible on one device. Parameters: <c>drop-rate</c> (default 0.5), <c>lambda</c> (default 1.0),
/// <c>seed</c> (default 0). Needs <see cref="MergeInputs.Base"/>.
/// </summary>
public sealed class DareMerge : IMergeMethod
{
    public const string MethodName = "dare";

    public DareMerge(DareOptions? options = null) => Options = (options ?? DareOptions.Default).Validated();

    public DareOptions Options { get; }
    public string Name => MethodName;

    public WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs) => MergeSupport.Merge(this, models, inputs);

    /// <summary>The merger owns the generator: one per merge, drawn tensor by tensor in the order tensors are given.</summary>
    public TensorMerger Begin(bool hasBase, Device device)
    {
        MergeSupport.RequireBase(MethodName, hasBase);
        return new Merger(Options, new Generator(Options.Seed, device));
    }

    private sealed class Merger(DareOptions options, Generator generator) : TensorMerger
    {
        protected override Tensor MergeFloat32(TensorGroup group)
        {
            var p = options.DropRate;
            var b = MergeSupport.Base(MethodName, group);
            var sum = zeros(b.shape, ScalarType.Float32, b.device);
            foreach (var model in group.Models)
            {
                var vector = MergeSupport.Float32(model).sub(b);
                if (p > 0)
                {
                    // keep where u >= p, u ~ U[0, 1): probability 1 − p.
                    var keep = rand(b.shape, ScalarType.Float32, b.device, generator: generator).ge_(p);
                    vector.mul_(keep).mul_(1.0 / (1.0 - p));
                }
                sum.add_(vector);
            }
            return sum.mul_(options.Lambda).add_(b);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                generator.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
