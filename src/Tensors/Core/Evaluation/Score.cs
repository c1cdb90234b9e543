namespace EvolverActors.Tensors.Evaluation;

/// <summary>The metric a task selects on.</summary>
public enum Metric
{
    Accuracy,
    MacroF1,
}

/// <summary>Scores of a model on one split.</summary>
public sealed record Score(double Accuracy, double MacroF1, int Examples)
{
    public double Get(Metric metric) => metric == Metric.Accuracy ? Accuracy : MacroF1;

    public static Metric ParseMetric(string name) => name.ToLowerInvariant() switch
    {
        "accuracy" => Metric.Accuracy,
        "macro-f1" or "macro_f1" or "f1" => Metric.MacroF1,
        _ => throw new EvolverException($"unknown metric '{name}': use accuracy or macro-f1"),
    };

    /// <summary>Accuracy and macro-F1 (unweighted mean of per-class F1 over classes that occur in labels or predictions).</summary>
    public static Score FromPredictions(IReadOnlyList<int> predicted, IReadOnlyList<int> labels, int classCount)
    {
        if (predicted.Count != labels.Count)
        {
            throw new ArgumentException("predictions and labels differ in length");
        }
        if (labels.Count == 0)
        {
            return new Score(double.NaN, double.NaN, 0);
        }
        var truePositive = new int[classCount];
        var predictedCount = new int[classCount];
        var labelCount = new int[classCount];
        var correct = 0;
        for (var i = 0; i < labels.Count; i++)
        {
            predictedCount[predicted[i]]++;
            labelCount[labels[i]]++;
            if (predicted[i] == labels[i])
            {
                truePositive[labels[i]]++;
                correct++;
            }
        }
        double f1Sum = 0;
        var classes = 0;
        for (var c = 0; c < classCount; c++)
        {
            if (labelCount[c] + predictedCount[c] == 0)
            {
                continue;
            }
            classes++;
            f1Sum += 2.0 * truePositive[c] / (labelCount[c] + predictedCount[c]);
        }
        return new Score((double)correct / labels.Count, f1Sum / classes, labels.Count);
    }
}
