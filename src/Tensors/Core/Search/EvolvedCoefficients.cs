using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Search;

/// <summary>What an evolved-coefficient search found: the per-layer weights of the best merge on dev, and its dev score.</summary>
/// <param name="LayerWeights">Per layer key (<see cref="LayerGroups"/>), one weight per model (each layer's sum is 1).</param>
/// <param name="Dev">Its dev score, the best of the search.</param>
/// <param name="Evaluations">Merges scored, the equal-weight start included.</param>
/// <param name="Improvements">The evaluation number and dev score of every new best, in order.</param>
public sealed record EvolvedMerge(IReadOnlyDictionary<string, IReadOnlyList<double>> LayerWeights, double Dev, int Evaluations,
    IReadOnlyList<(int Evaluation, double Dev)> Improvements)
{
    public LinearOptions Options => new() { LayerWeights = LayerWeights };
}

/// <summary>
/// Evolved merge coefficients (evolutionary model merging, Akiba et al. 2024; <c>mergekit-evolve</c>): CMA-ES over one
/// logit per model and layer, the weights a per-layer softmax over the models, each candidate scored on dev as a
/// <c>linear</c> merge. It starts at equal weights (the average, scored first) and keeps the best merge any evaluation
/// found, within a budget of merges scored — the same unit as an Evolver run's evaluations. In process, for a caller that
/// holds the models and a scorer; a run with <c>search.method = cma-es</c> draws the same candidates (<see cref="CoefficientSearch"/>)
/// through the service, with recipes, a journal and resume.
/// </summary>
public static class EvolvedCoefficients
{
    /// <summary>σ₀ in logit space: a step of ±0.5 moves a model's share by about ±40 % of itself.</summary>
    public const double InitialSigma = CoefficientSearch.DefaultSigma;

    /// <param name="models">The models to merge (the caller's).</param>
    /// <param name="scoreOnDev">The dev score of a merge (higher is better); it must not keep the weight set.</param>
    /// <param name="budget">Merges to score, at least 1.</param>
    /// <param name="seed">The search's seed.</param>
    /// <param name="progress">Told each new best (evaluation, dev score); may be null.</param>
    public static EvolvedMerge Search(IReadOnlyList<WeightSet> models, Func<WeightSet, double> scoreOnDev, int budget, int seed,
        Action<int, double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(scoreOnDev);
        if (models.Count < 2 || budget < 1)
        {
            throw new EvolverException($"an evolved-coefficient search needs at least 2 models and a budget of at least 1 (got {models.Count} models, budget {budget})");
        }
        var layers = LayerGroups.Of(models[0].Names);
        var dimensions = layers.Count * models.Count;
        var improvements = new List<(int, double)>();
        var evaluations = 0;
        var best = (Logits: new double[dimensions], Dev: double.NegativeInfinity);
        double Score(double[] logits)
        {
            using var merged = new LinearMerge(new LinearOptions { LayerWeights = WeightsOf(logits, layers, models.Count) }).Merge(models, MergeInputs.None);
            var dev = scoreOnDev(merged);
            evaluations++;
            if (dev > best.Dev)
            {
                best = (logits, dev);
                improvements.Add((evaluations, dev));
                progress?.Invoke(evaluations, dev);
            }
            return dev;
        }
        Score(new double[dimensions]); // the start: equal weights, the average
        var search = new CoefficientSearch(dimensions, InitialSigma, (ulong)seed);
        var scores = new List<double?>();
        while (evaluations < budget)
        {
            scores.Add(Score(search.Candidate(scores.Count, scores)));
        }
        return new EvolvedMerge(WeightsOf(best.Logits, layers, models.Count), best.Dev, evaluations, improvements);
    }

    private static Dictionary<string, IReadOnlyList<double>> WeightsOf(IReadOnlyList<double> logits, IReadOnlyList<string> layers, int models) =>
        CoefficientSearch.WeightsOf(logits, layers, models);
}
