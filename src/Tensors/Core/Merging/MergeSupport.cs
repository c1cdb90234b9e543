using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>Checks and per-tensor plumbing shared by the merge methods.</summary>
internal static class MergeSupport
{
    /// <summary>
    /// Checks that there is at least one model, that all models (and the base, when given) share one
    /// layout, and that statistics, when given, come one per model.
    /// </summary>
    public static void Validate(string method, IReadOnlyList<WeightSet> models, MergeInputs inputs)
    {
        if (models.Count == 0)
        {
            throw new EvolverException($"merge method '{method}' needs at least one model");
        }
        var first = models[0].Layout;
        for (var k = 1; k < models.Count; k++)
        {
            WeightLayout.RequireSame(first, "model 0", models[k].Layout, $"model {k}");
        }
        if (inputs.Base is { } baseModel)
        {
            WeightLayout.RequireSame(first, "model 0", baseModel.Layout, "the base model");
        }
        RequireOnePerModel(method, "Fisher", inputs.Fisher, models.Count);
        RequireOnePerModel(method, "Gram", inputs.Grams, models.Count);
    }

    /// <summary>Fails, naming the method, when a method that takes task vectors against a base has none.</summary>
    public static void RequireBase(string method, bool hasBase)
    {
        if (!hasBase)
        {
            throw new EvolverException(
                $"merge method '{method}' needs a base model (task vectors are taken against it); none was given");
        }
    }

    /// <summary>The base tensor of a group whose merger was begun with a base (<see cref="RequireBase"/>).</summary>
    public static Tensor Base(string method, TensorGroup group) =>
        group.Base ?? throw new EvolverException($"merge method '{method}': no base tensor was given for '{group.Name}'");

    /// <summary>Whether a tensor takes part in a merge: floating and not excluded.</summary>
    public static bool IsMerged(string name, Tensor tensor, MergeInputs inputs) =>
        DTypes.IsFloating(tensor.dtype) && !inputs.IsExcluded(name);

    /// <summary>
    /// Builds the merged set tensor by tensor, in models[0]'s order, through <paramref name="merger"/>: merged tensors
    /// are computed in float32 and cast back to the models' dtype; other tensors are copied from models[0].
    /// </summary>
    public static WeightSet PerTensor(IReadOnlyList<WeightSet> models, MergeInputs inputs, TensorMerger merger) =>
        models[0].Map((name, _) => merger.Merge(TensorGroup.Of(models, inputs, name), inputs.Exclude));

    /// <summary>The whole-set merge of a method: validate, begin, run every tensor through the merger.</summary>
    public static WeightSet Merge(IMergeMethod method, IReadOnlyList<WeightSet> models, MergeInputs inputs)
    {
        Validate(method.Name, models, inputs);
        using var merger = method.Begin(inputs.Base is not null, models[0].Device);
        return PerTensor(models, inputs, merger);
    }

    /// <summary>
    /// Whether two tensors hold the same values bit for bit (one read of each on CPU float32, torch elsewhere): a merge of
    /// tensors that are all the same returns them unrounded, so frozen layers stay frozen (docs/architecture.md §5).
    /// </summary>
    public static bool SameValues(Tensor a, Tensor b) =>
        ReferenceEquals(a, b) || (Native.CloseKernel.AllClose(a, b, 0, 0) ?? a.equal(b).all().item<bool>());

    /// <summary>A float32 view of <paramref name="t"/> for reading (a new tensor only when the dtype differs). Never write to it.</summary>
    public static Tensor Float32(Tensor t) => t.dtype == ScalarType.Float32 ? t : t.to(ScalarType.Float32);

    /// <summary>The float32 mean of one tensor over the models: zeros, then add_ each with alpha 1/N.</summary>
    public static Tensor Average(IReadOnlyList<Tensor> models) => WeightedSum(models, [.. Enumerable.Repeat(1.0 / models.Count, models.Count)]);

    /// <summary>The float32 Σ_k shares[k]·models[k] of one tensor: zeros, then <see cref="Accumulate"/> each model in order.</summary>
    public static Tensor WeightedSum(IReadOnlyList<Tensor> models, IReadOnlyList<double> shares)
    {
        var first = models[0];
        var sum = zeros(first.shape, ScalarType.Float32, first.device);
        for (var k = 0; k < models.Count; k++)
        {
            Accumulate(sum, models[k], shares[k]);
        }
        return sum;
    }

    /// <summary>
    /// <c>sum += share·model</c> into a float32 sum, each element one fused multiply-add: the fused CPU kernel where it
    /// applies (no temporaries, any floating dtype), torch's <c>add_</c> elsewhere. Every average goes through this, so a
    /// streamed merge and a resident one agree bit for bit.
    /// </summary>
    public static void Accumulate(Tensor sum, Tensor model, double share)
    {
        if (!Native.AccumulateKernel.TryRun(sum, model, (float)share))
        {
            sum.add_(model, share);
        }
    }

    /// <summary>
    /// The per-model statistic tensors for <paramref name="name"/>: all of them, or null when no model has one.
    /// Having it for some models only, or with a wrong shape, is an error.
    /// </summary>
    public static Tensor[]? Statistics(
        string method, string kind, IReadOnlyList<Tensor?>? stats, string name, long[] expectedShape)
    {
        if (stats is null)
        {
            return null;
        }
        var present = stats.Count(s => s is not null);
        if (present == 0)
        {
            return null;
        }
        if (present != stats.Count)
        {
            throw new EvolverException(
                $"merge method '{method}': {kind} statistics for '{name}' are given for {present} of {stats.Count} models; give them for all or none");
        }
        var result = new Tensor[stats.Count];
        for (var k = 0; k < stats.Count; k++)
        {
            var t = stats[k]!;
            if (!t.shape.SequenceEqual(expectedShape))
            {
                throw new EvolverException(
                    $"merge method '{method}': {kind} statistic '{name}' of model {k} has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", expectedShape)}]");
            }
            result[k] = t;
        }
        return result;
    }

    private static void RequireOnePerModel(string method, string kind, IReadOnlyList<WeightSet>? stats, int models)
    {
        if (stats is not null && stats.Count != models)
        {
            throw new EvolverException(
                $"merge method '{method}': {stats.Count} {kind} statistic sets for {models} models; give one per model");
        }
    }
}
