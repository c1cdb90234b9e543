using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace EvolverActors.Tensors.Search;

/// <summary>
/// CMA-ES, the covariance matrix adaptation evolution strategy (Hansen 2016, "The CMA Evolution Strategy: A Tutorial",
/// https://arxiv.org/abs/1604.00772), maximizing: <see cref="Ask"/> a generation of λ points, score them, <see cref="Tell"/>
/// the scores. The default constants are the tutorial's (Table 1). Deterministic for a seed. Not thread-safe.
/// </summary>
public sealed class CmaEs
{
    private readonly int _n;
    private readonly double[] _weights;
    private readonly double _muEff, _cc, _cs, _c1, _cMu, _damps, _chiN;
    private readonly Random _random;
    private Vector<double> _mean, _pathC, _pathSigma;
    private Matrix<double> _covariance, _basis, _invSqrtC;
    private Vector<double> _scales; // D: the square roots of C's eigenvalues
    private List<Vector<double>>? _asked;

    /// <param name="start">The initial mean m₀ (its length is the dimension).</param>
    /// <param name="sigma">The initial step size σ₀ (about a quarter of the range the optimum is expected in).</param>
    /// <param name="seed">The seed of the sampling.</param>
    /// <param name="populationSize">λ (null: 4 + ⌊3 ln n⌋).</param>
    public CmaEs(IReadOnlyList<double> start, double sigma, int seed, int? populationSize = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (start.Count == 0 || !(sigma > 0) || !double.IsFinite(sigma))
        {
            throw new EvolverException($"CMA-ES needs at least one dimension and a finite σ > 0 (got {start.Count} dimensions, σ = {sigma})");
        }
        _n = start.Count;
        PopulationSize = populationSize ?? 4 + (int)Math.Floor(3 * Math.Log(_n));
        if (PopulationSize < 2)
        {
            throw new EvolverException($"CMA-ES needs a population of at least 2 (got {PopulationSize})");
        }
        var mu = PopulationSize / 2;
        var raw = Enumerable.Range(1, mu).Select(i => Math.Log((PopulationSize + 1) / 2.0) - Math.Log(i)).ToArray();
        _weights = [.. raw.Select(w => w / raw.Sum())];
        _muEff = 1 / _weights.Sum(w => w * w);
        _cc = (4 + _muEff / _n) / (_n + 4 + 2 * _muEff / _n);
        _cs = (_muEff + 2) / (_n + _muEff + 5);
        _c1 = 2 / (Math.Pow(_n + 1.3, 2) + _muEff);
        _cMu = Math.Min(1 - _c1, 2 * (_muEff - 2 + 1 / _muEff) / (Math.Pow(_n + 2, 2) + _muEff));
        _damps = 1 + 2 * Math.Max(0, Math.Sqrt((_muEff - 1) / (_n + 1)) - 1) + _cs;
        _chiN = Math.Sqrt(_n) * (1 - 1.0 / (4 * _n) + 1.0 / (21.0 * _n * _n));
        _random = new Random(seed);
        _mean = Vector<double>.Build.DenseOfEnumerable(start);
        _pathC = Vector<double>.Build.Dense(_n);
        _pathSigma = Vector<double>.Build.Dense(_n);
        _covariance = Matrix<double>.Build.DenseIdentity(_n);
        _basis = Matrix<double>.Build.DenseIdentity(_n);
        _invSqrtC = Matrix<double>.Build.DenseIdentity(_n);
        _scales = Vector<double>.Build.Dense(_n, 1.0);
        Sigma = sigma;
    }

    /// <summary>λ, the points per generation.</summary>
    public int PopulationSize { get; }

    /// <summary>The current step size σ.</summary>
    public double Sigma { get; private set; }

    /// <summary>Generations told so far.</summary>
    public int Generation { get; private set; }

    /// <summary>The current mean, the search's best guess of the optimum.</summary>
    public IReadOnlyList<double> Mean => [.. _mean];

    /// <summary>The next generation: λ points x = m + σ·B·D·z, z ~ N(0, I).</summary>
    public IReadOnlyList<double[]> Ask()
    {
        _asked = [.. Enumerable.Range(0, PopulationSize).Select(_ =>
        {
            var z = Vector<double>.Build.Dense(_n, _ => Normal.Sample(_random, 0, 1));
            return _mean + Sigma * (_basis * z.PointwiseMultiply(_scales));
        })];
        return [.. _asked.Select(x => x.ToArray())];
    }

    /// <summary>
    /// Updates the mean, the evolution paths, the covariance and σ from the scores of the last <see cref="Ask"/>'s points,
    /// in their order (higher is better; a non-finite score counts as the worst).
    /// </summary>
    public void Tell(IReadOnlyList<double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var asked = _asked ?? throw new InvalidOperationException("Tell without an Ask");
        if (scores.Count != asked.Count)
        {
            throw new ArgumentException($"{scores.Count} scores for {asked.Count} points", nameof(scores));
        }
        _asked = null;
        var ranked = Enumerable.Range(0, asked.Count)
            .OrderByDescending(i => double.IsFinite(scores[i]) ? scores[i] : double.NegativeInfinity).ThenBy(i => i)
            .Take(_weights.Length).Select(i => (asked[i] - _mean) / Sigma).ToList();
        var step = Vector<double>.Build.Dense(_n);
        for (var i = 0; i < ranked.Count; i++)
        {
            step += _weights[i] * ranked[i];
        }
        _mean += Sigma * step;
        Generation++;

        _pathSigma = (1 - _cs) * _pathSigma + Math.Sqrt(_cs * (2 - _cs) * _muEff) * (_invSqrtC * step);
        // h_σ: the rank-one path is fed only while the σ path is not long (it stalls the update while σ grows fast).
        var h = _pathSigma.L2Norm() / Math.Sqrt(1 - Math.Pow(1 - _cs, 2 * Generation)) / _chiN < 1.4 + 2.0 / (_n + 1) ? 1.0 : 0.0;
        _pathC = (1 - _cc) * _pathC + h * Math.Sqrt(_cc * (2 - _cc) * _muEff) * step;
        var rankMu = Matrix<double>.Build.Dense(_n, _n);
        for (var i = 0; i < ranked.Count; i++)
        {
            rankMu += _weights[i] * ranked[i].OuterProduct(ranked[i]);
        }
        _covariance = (1 - _c1 - _cMu) * _covariance
            + _c1 * (_pathC.OuterProduct(_pathC) + (1 - h) * _cc * (2 - _cc) * _covariance)
            + _cMu * rankMu;
        Sigma *= Math.Exp(_cs / _damps * (_pathSigma.L2Norm() / _chiN - 1));
        Decompose();
    }

    /// <summary>B and D from C = B·D²·Bᵀ (C made exactly symmetric first), and C^(-1/2) = B·D⁻¹·Bᵀ.</summary>
    private void Decompose()
    {
        _covariance = (_covariance + _covariance.Transpose()) / 2;
        var evd = _covariance.Evd(Symmetricity.Symmetric);
        _basis = evd.EigenVectors;
        _scales = evd.EigenValues.Real().Map(v => Math.Sqrt(Math.Max(v, 1e-20)));
        _invSqrtC = _basis * Matrix<double>.Build.DiagonalOfDiagonalVector(_scales.Map(d => 1 / d)) * _basis.Transpose();
    }
}
