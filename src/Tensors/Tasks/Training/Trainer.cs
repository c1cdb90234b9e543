using System.Text.RegularExpressions;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Training;

/// <summary>How to fine-tune: AdamW over shuffled mini-batches; parameters matching <see cref="Freeze"/> stay fixed.</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; }
    public int? MaxSteps { get; init; }
    public long Seed { get; init; }
    public Regex? Freeze { get; init; }
}

/// <summary>Supervised training with cross-entropy: used to pretrain bases and fine-tune zoo members.</summary>
public static class Trainer
{
    /// <summary>Trains in place; returns the mean loss of the last epoch.</summary>
    public static double Fit(ClassifierModel model, IBatcher batcher, LabelledSet train, TrainingOptions options, Device device,
        Action<string>? log = null)
    {
        if (train.Count == 0)
        {
            throw new EvolverException($"training split '{train.Name}' is empty");
        }
        random.manual_seed(options.Seed);
        model.to(device);
        model.train();
        var trainable = model.named_parameters()
            .Where(p => options.Freeze?.IsMatch(p.name) != true)
            .Select(p => p.parameter)
            .ToList();
        foreach (var (name, parameter) in model.named_parameters())
        {
            parameter.requires_grad = options.Freeze?.IsMatch(name) != true;
        }
        using var optimizer = optim.AdamW(trainable, options.LearningRate, weight_decay: options.WeightDecay);
        var rng = new Random((int)options.Seed);
        var steps = 0;
        var lastEpochLoss = double.NaN;
        for (var epoch = 0; epoch < options.Epochs && (options.MaxSteps is null || steps < options.MaxSteps); epoch++)
        {
            var order = Enumerable.Range(0, train.Count).OrderBy(_ => rng.Next()).ToArray();
            double lossSum = 0;
            var batches = 0;
            for (var start = 0; start < order.Length && (options.MaxSteps is null || steps < options.MaxSteps); start += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var indices = order[start..Math.Min(order.Length, start + options.BatchSize)];
                var input = batcher.Make(train, indices, device);
                var labels = tensor(indices.Select(i => (long)train.Labels[i]).ToArray(), device: device);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(input), labels);
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
                steps++;
            }
            lastEpochLoss = lossSum / Math.Max(1, batches);
            log?.Invoke($"  epoch {epoch + 1}/{options.Epochs}: loss {lastEpochLoss:F4} ({steps} steps)");
        }
        foreach (var (_, parameter) in model.named_parameters())
        {
            parameter.requires_grad = true;
        }
        model.eval();
        return lastEpochLoss;
    }
}
