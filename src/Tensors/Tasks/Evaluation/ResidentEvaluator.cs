using System.Diagnostics;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// The evaluator core: a model skeleton and the batched splits (dev, test, ood, …) stay resident on one device;
/// a candidate's weights are copied into the skeleton (no allocation) and scored under no-grad. Batches are made in the
/// batcher's <see cref="IBatcher.EvaluationOrder"/> and keyed (<see cref="ModelInput.ResidentKey"/>), so a model can reuse
/// the activations of layers that candidates share.
/// One owner thread: TorchSharp dispose scopes are thread-static.
/// </summary>
public sealed class ResidentEvaluator : IDisposable
{
    private readonly ClassifierModel _model;
    private readonly Dictionary<string, List<(ModelInput Input, int[] Labels)>> _splits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _classCounts = new(StringComparer.Ordinal);

    public ResidentEvaluator(ClassifierModel model, IBatcher batcher, IEnumerable<LabelledSet> splits, Device device, int? batchSize = null)
    {
        _model = model;
        Device = device;
        _model.to(device);
        _model.eval();
        var size = batchSize ?? batcher.EvaluationBatchSize;
        var key = 0;
        foreach (var split in splits)
        {
            var batches = new List<(ModelInput, int[])>();
            var order = batcher.EvaluationOrder(split);
            for (var start = 0; start < split.Count; start += size)
            {
                var indices = order.Skip(start).Take(size).ToArray();
                // The key marks a batch that lives as long as this evaluator: a model may cache its activations.
                var input = batcher.Make(split, indices, device) with { ResidentKey = key++ };
                input.Features.DetachFromDisposeScope();
                input.AttentionMask?.DetachFromDisposeScope();
                input.TokenTypeIds?.DetachFromDisposeScope();
                batches.Add((input, indices.Select(i => split.Labels[i]).ToArray()));
            }
            _splits[split.Name] = batches;
            _classCounts[split.Name] = split.ClassCount;
        }
    }

    public Device Device { get; }
    public ClassifierModel Model => _model;
    public IReadOnlyCollection<string> SplitNames => _splits.Keys;

    /// <summary>Milliseconds the last <see cref="Load"/> took (copying a candidate into the resident skeleton).</summary>
    public double LastLoadMs { get; private set; }

    public void Load(WeightSet candidate)
    {
        var watch = Stopwatch.StartNew();
        _model.LoadWeights(candidate);
        LastLoadMs = watch.Elapsed.TotalMilliseconds;
    }

    public Score Evaluate(string split)
    {
        if (!_splits.TryGetValue(split, out var batches))
        {
            throw new EvolverException($"evaluator has no split '{split}'; it has {string.Join(", ", _splits.Keys)}");
        }
        var predicted = new List<int>();
        var labels = new List<int>();
        foreach (var (input, batchLabels) in batches)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var logits = _model.forward(input);
            predicted.AddRange(logits.argmax(1).to(CPU).data<long>().ToArray().Select(p => (int)p));
            labels.AddRange(batchLabels);
        }
        return Score.FromPredictions(predicted, labels, _classCounts[split]);
    }

    public IReadOnlyDictionary<string, Score> EvaluateAll() => _splits.Keys.ToDictionary(s => s, Evaluate, StringComparer.Ordinal);

    public void Dispose()
    {
        foreach (var (input, _) in _splits.Values.SelectMany(b => b))
        {
            input.Features.Dispose();
            input.AttentionMask?.Dispose();
            input.TokenTypeIds?.Dispose();
        }
        _splits.Clear();
        _model.Dispose();
    }
}
