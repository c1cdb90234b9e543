using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Zoo;

/// <summary>Scores zoo models on the resident dev / test / ood splits (and each model's own "own-k" split) with the task's metric.</summary>
internal sealed class ZooScorer(ResidentEvaluator evaluator, Metric metric)
{
    public SplitScores Scores(WeightSet weights)
    {
        evaluator.Load(weights);
        return new SplitScores(Score("dev"), Score("test"), Score("ood"));
    }

    /// <summary>The manifest entry of member <paramref name="k"/>, with its scores, its own-split score and its statistics' paths.</summary>
    public ZooModel Model(int k, WeightSet weights, string data, int fisherExamples, int gramExamples)
    {
        var scores = Scores(weights);
        return new ZooModel($"model-{k}", Path.Combine("models", $"model-{k}"), scores.Dev, scores.Test, scores.Ood, Score($"own-{k}"), data,
            ZooStatistics.FisherPath(k, fisherExamples), ZooStatistics.GramPath(k, gramExamples));
    }

    private double Score(string split) => evaluator.Evaluate(split).Get(metric);
}
