using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>The built-in scorer: copies the weights into a resident model skeleton and reads the task's metric.</summary>
public sealed class ResidentScorer(ResidentEvaluator evaluator, Metric metric) : ICandidateScorer
{
    public ResidentEvaluator Evaluator { get; } = evaluator;
    public Metric Metric { get; } = metric;
    public IReadOnlyCollection<string> SplitNames => Evaluator.SplitNames;

    public double Score(WeightSet weights, string split) => Score(weights, [split])[0];

    /// <summary>The weights are loaded into the skeleton once for every split.</summary>
    public IReadOnlyList<double> Score(WeightSet weights, IReadOnlyList<string> splits)
    {
        Evaluator.Load(weights);
        return [.. splits.Select(split => Evaluator.Evaluate(split).Get(Metric))];
    }

    public void Dispose() => Evaluator.Dispose();
}
