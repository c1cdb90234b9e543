using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Training;

/// <summary>
/// The statistics that Fisher merging and RegMean need, computed once per original model from task data.
/// </summary>
public static class MergeStatistics
{
    /// <summary>
    /// Diagonal Fisher information E_x E_{y~p(y|x)} [(∂ log p(y|x) / ∂θ)²], with y sampled from the model's own
    /// predictive distribution (Matena &amp; Raffel 2022, https://arxiv.org/abs/2111.09832), one example at a time
    /// so that squares are of per-example gradients. Returns one tensor per parameter (buffers have none).
    /// </summary>
    public static WeightSet Fisher(ClassifierModel model, IBatcher batcher, LabelledSet data, int examples, long seed, Device device)
    {
        var count = Math.Min(examples, data.Count);
        if (count <= 0)
        {
            throw new EvolverException($"Fisher statistics need examples, but split '{data.Name}' has none");
        }
        model.to(device);
        model.eval();
        var parameters = model.named_parameters().ToList();
        var sums = parameters.Select(p => zeros_like(p.parameter).DetachFromDisposeScope()).ToArray();
        using var generator = new Generator((ulong)seed, device);
        try
        {
            var order = Enumerable.Range(0, data.Count).OrderBy(i => CounterRngOrder(seed, i)).Take(count);
            foreach (var index in order)
            {
                using var scope = NewDisposeScope();
                model.zero_grad();
                var logits = model.forward(batcher.Make(data, [index], device));
                var logProbabilities = nn.functional.log_softmax(logits, 1);
                Tensor sampled;
                using (no_grad())
                {
                    sampled = multinomial(logProbabilities.exp(), 1, generator: generator);
                }
                logProbabilities.gather(1, sampled).sum().backward();
                using var noGrad = no_grad();
                for (var p = 0; p < parameters.Count; p++)
                {
                    if (parameters[p].parameter.grad is { } grad)
                    {
                        sums[p].addcmul_(grad, grad, 1);
                    }
                }
            }
            foreach (var sum in sums)
            {
                sum.div_(count);
            }
            model.zero_grad();
            return WeightSet.Adopt(parameters.Select((p, i) => (model.CheckpointName(p.name), sums[i].to(CPU))));
        }
        finally
        {
            foreach (var sum in sums)
            {
                sum.Dispose();
            }
        }
    }

    /// <summary>
    /// RegMean's Gram matrices XᵀX of every observable linear layer's inputs (Jin et al. 2023,
    /// https://arxiv.org/abs/2212.09849), summed over the examples' rows (tokens for text), keyed by weight name.
    /// </summary>
    public static WeightSet Grams(ClassifierModel model, IBatcher batcher, LabelledSet data, int examples, Device device, int batchSize = 32)
    {
        var count = Math.Min(examples, data.Count);
        model.to(device);
        model.eval();
        var grams = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        model.ObserveLinearInputs((name, input) =>
        {
            var rows = input.reshape(-1, input.shape[^1]).to(ScalarType.Float32);
            if (!grams.TryGetValue(name, out var gram))
            {
                gram = zeros(rows.shape[1], rows.shape[1], ScalarType.Float32, device).DetachFromDisposeScope();
                grams[name] = gram;
            }
            gram.addmm_(rows.T, rows);
        });
        try
        {
            for (var start = 0; start < count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                model.forward(batcher.Make(data, Enumerable.Range(start, Math.Min(batchSize, count - start)).ToArray(), device));
            }
        }
        finally
        {
            model.ObserveLinearInputs(null);
        }
        var result = WeightSet.Adopt(grams.Select(kv => (kv.Key, kv.Value.to(CPU))));
        foreach (var gram in grams.Values)
        {
            gram.Dispose();
        }
        return result;
    }

    /// <summary>A seeded shuffle key, so the Fisher examples do not depend on the split's order.</summary>
    private static ulong CounterRngOrder(long seed, int index) => Operators.CounterRng.SplitMix64((ulong)seed ^ Operators.CounterRng.SplitMix64((ulong)index));
}
