using EvolverActors.Tensors.Merging;

namespace EvolverActors.Tensors.Search;

/// <summary>
/// The evolved-coefficient search as a sequence of candidates (docs/architecture.md §1, "Evolved merge coefficients"):
/// candidate n is point n mod λ of CMA-ES generation ⌊n / λ⌋, and that generation is fixed by the seed and the scores
/// of the generations before it. So whoever knows those scores (a run's journal) can replay the search to any candidate,
/// and a resumed run draws the candidates it drew before. A candidate is one logit per model and layer, laid out layer
/// by layer; its merge weights are the per-layer softmax over the models (<see cref="WeightsOf"/>). The search starts at
/// equal weights, the average. Not thread-safe.
/// </summary>
public sealed class CoefficientSearch
{
    /// <summary>The operator name a coefficient candidate carries in a run's recipes and counters.</summary>
    public const string OperatorName = "cma-es";

    /// <summary>σ₀ in logit space: a step of ±0.5 moves a model's share by about ±40 % of itself.</summary>
    public const double DefaultSigma = 0.5;

    private readonly int _dimensions;
    private readonly double _sigma;
    private readonly int _seed;
    private CmaEs _cma;
    private IReadOnlyList<double[]> _generation;

    /// <param name="dimensions">Logits per candidate: layers × models (<see cref="Dimensions"/>).</param>
    /// <param name="sigma">σ₀ in logit space.</param>
    /// <param name="seed">The run's seed.</param>
    public CoefficientSearch(int dimensions, double sigma, ulong seed)
    {
        _dimensions = dimensions;
        _sigma = sigma;
        _seed = (int)(seed & int.MaxValue);
        (_cma, _generation) = Start();
    }

    /// <summary>λ: candidates per generation (all of a generation are scored before the next is drawn).</summary>
    public int GenerationSize => _cma.PopulationSize;

    /// <summary>Logits per candidate for models whose tensors are <paramref name="tensorNames"/>.</summary>
    public static int Dimensions(IEnumerable<string> tensorNames, int models) => LayerGroups.Of(tensorNames).Count * models;

    /// <summary>
    /// Candidate <paramref name="sequence"/>'s logits. <paramref name="scores"/> holds the dev score of every candidate
    /// by sequence number (null: it failed, the worst score), at least those of the generations before this one.
    /// </summary>
    public double[] Candidate(long sequence, IReadOnlyList<double?> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var generation = sequence / GenerationSize;
        if (generation < _cma.Generation)
        {
            (_cma, _generation) = Start(); // asked for an earlier generation (a restart): replay from the seed
        }
        while (_cma.Generation < generation)
        {
            var first = (int)(_cma.Generation * (long)GenerationSize);
            if (scores.Count < first + GenerationSize)
            {
                throw new InvalidOperationException($"candidate {sequence} needs the scores of candidates {first}..{first + GenerationSize - 1}; {scores.Count} are known");
            }
            _cma.Tell([.. Enumerable.Range(first, GenerationSize).Select(i => scores[i] ?? double.NegativeInfinity)]);
            _generation = _cma.Ask();
        }
        return [.. _generation[(int)(sequence % GenerationSize)]];
    }

    /// <summary>
    /// Records candidate <paramref name="sequence"/>'s decided score in <paramref name="scores"/> (by sequence number;
    /// any gap before it stays null, as a failed candidate's).
    /// </summary>
    public static void Record(List<double?> scores, long sequence, double? score)
    {
        ArgumentNullException.ThrowIfNull(scores);
        while (scores.Count <= sequence)
        {
            scores.Add(null);
        }
        scores[(int)sequence] = score;
    }

    /// <summary>Per layer, the softmax over the models of their logits (laid out layer by layer).</summary>
    public static Dictionary<string, IReadOnlyList<double>> WeightsOf(IReadOnlyList<double> logits, IReadOnlyList<string> layers, int models)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(layers);
        if (logits.Count != layers.Count * models)
        {
            throw new EvolverException($"a coefficient vector of {logits.Count} logits does not fit {layers.Count} layers × {models} models");
        }
        var weights = new Dictionary<string, IReadOnlyList<double>>(StringComparer.Ordinal);
        for (var l = 0; l < layers.Count; l++)
        {
            var slice = logits.Skip(l * models).Take(models).ToArray();
            var max = slice.Max();
            var exp = slice.Select(x => Math.Exp(x - max)).ToArray();
            var total = exp.Sum();
            weights[layers[l]] = [.. exp.Select(e => e / total)];
        }
        return weights;
    }

    private (CmaEs, IReadOnlyList<double[]>) Start()
    {
        var cma = new CmaEs(new double[_dimensions], _sigma, _seed);
        return (cma, cma.Ask());
    }
}
