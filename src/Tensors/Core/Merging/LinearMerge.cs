using System.Globalization;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Options of <c>linear</c>: each model's weight, for every tensor (<see cref="Weights"/>, the <c>weights</c> parameter,
/// <c>w0:w1:…</c>), or per layer (<see cref="LayerWeights"/>, keyed by <see cref="LayerGroups"/>, the <c>layer-weights</c>
/// parameter, <c>LAYER@w0:w1:…;LAYER@…</c>: the coefficients an evolved-coefficient search finds). Weights are ≥ 0 with a
/// positive sum per tensor and are normalized.
/// </summary>
public sealed record LinearOptions
{
    public static LinearOptions Default { get; } = new();

    /// <summary>One weight per model for every tensor (null: equal weights, the average).</summary>
    public IReadOnlyList<double>? Weights { get; init; }

    /// <summary>Per layer key, one weight per model; a layer not listed takes <see cref="Weights"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>>? LayerWeights { get; init; }

    public static LinearOptions Parse(IReadOnlyDictionary<string, string>? values)
    {
        var p = new MergeParameters(LinearMerge.MethodName, values, "weights", "layer-weights");
        var layers = p.Text("layer-weights")?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(entry =>
        {
            var at = entry.LastIndexOf('@');
            return at > 0 ? (Layer: entry[..at], Weights: Numbers(entry[(at + 1)..]))
                : throw new EvolverException($"merge method 'linear': layer-weights entry '{entry}' is not LAYER@w0:w1:…");
        }).ToDictionary(e => e.Layer, e => e.Weights, StringComparer.Ordinal);
        return new LinearOptions { Weights = p.Text("weights") is { } text ? Numbers(text) : null, LayerWeights = layers }.Validated();
    }

    /// <summary>These options as the key=values <see cref="Parse"/> reads (a run config's <c>fitness.merge-params</c>).</summary>
    public IReadOnlyDictionary<string, string> ToParameters()
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Weights is not null)
        {
            parameters["weights"] = Format(Weights);
        }
        if (LayerWeights is { Count: > 0 })
        {
            parameters["layer-weights"] = string.Join(";", LayerWeights.Select(kv => $"{kv.Key}@{Format(kv.Value)}"));
        }
        return parameters;
    }

    private static IReadOnlyList<double> Numbers(string text) =>
        [.. text.Split(':').Select(w => double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)];

    private static string Format(IReadOnlyList<double> weights) => string.Join(":", weights.Select(w => w.ToString("R", CultureInfo.InvariantCulture)));

    public LinearOptions Validated()
    {
        Check("weights", Weights);
        foreach (var (layer, weights) in LayerWeights ?? new Dictionary<string, IReadOnlyList<double>>())
        {
            Check($"weights of layer '{layer}'", weights);
        }
        return this;
    }

    private static void Check(string what, IReadOnlyList<double>? weights)
    {
        if (weights is not null && (weights.Count == 0 || weights.Any(w => !double.IsFinite(w) || w < 0) || !(weights.Sum() > 0)))
        {
            throw new EvolverException($"merge method 'linear': {what} = {string.Join(":", weights.Select(w => w.ToString(CultureInfo.InvariantCulture)))} "
                + "must be finite numbers ≥ 0 with a positive sum, one per model (w0:w1:…)");
        }
    }
}

/// <summary>
/// <c>linear</c>: the weighted average Σ_k w_k·x_k / Σ_k w_k, with weights per model or per model and layer (mergekit's
/// <c>linear</c>; per-layer weights are what evolutionary model merging tunes, Akiba et al. 2024,
/// https://arxiv.org/abs/2403.13187). Equal weights are the <c>average</c>. Parameters: <c>weights</c> (w0:w1:…) and
/// <c>layer-weights</c> (LAYER@w0:w1:…;…), which takes precedence in its layers.
/// </summary>
public sealed class LinearMerge : IMergeMethod
{
    public const string MethodName = "linear";

    public LinearMerge(LinearOptions? options = null) => Options = (options ?? LinearOptions.Default).Validated();

    public LinearOptions Options { get; }
    public string Name => MethodName;

    public WeightSet Merge(IReadOnlyList<WeightSet> models, MergeInputs inputs) => MergeSupport.Merge(this, models, inputs);

    public TensorMerger Begin(bool hasBase, Device device) =>
        new FunctionMerger(group => MergeSupport.WeightedSum(group.Models, SharesOf(group.Name, group.Models.Count)));

    /// <summary>Each model's normalized weight in tensor <paramref name="tensorName"/> (they sum to 1).</summary>
    internal double[] SharesOf(string tensorName, int models)
    {
        var weights = Options.LayerWeights?.GetValueOrDefault(LayerGroups.KeyOf(tensorName)) ?? Options.Weights ?? Enumerable.Repeat(1.0, models).ToArray();
        var total = weights.Sum();
        return weights.Count == models ? [.. weights.Select(w => w / total)]
            : throw new EvolverException($"merge method 'linear': {weights.Count} weights for {models} models at tensor '{tensorName}'");
    }
}
