using EvolverActors.Tensors.Search;
using Xunit;

namespace EvolverActors.Tests.Search;

public sealed class CmaEsTests
{
    private static readonly double[] Optimum = [1.5, -2.0, 0.25, 3.0, -0.75];

    private static double Run(CmaEs search, Func<double[], double> objective, int generations)
    {
        for (var g = 0; g < generations; g++)
        {
            search.Tell([.. search.Ask().Select(objective)]);
        }
        return Math.Sqrt(search.Mean.Select((m, i) => Math.Pow(m - Optimum[i], 2)).Sum());
    }

    [Fact]
    public void It_climbs_to_the_top_of_a_shifted_sphere()
    {
        var distance = Run(new CmaEs(new double[5], 1.0, seed: 3), x => -x.Select((v, i) => Math.Pow(v - Optimum[i], 2)).Sum(), 150);
        Assert.True(distance < 1e-6, $"mean {distance} from the optimum");
    }

    [Fact]
    public void It_adapts_its_covariance_to_an_ellipsoid_a_million_times_longer_in_one_axis()
    {
        // Without a learned covariance, an isotropic search crawls along the long axes; CMA-ES rescales them.
        double Ellipsoid(double[] x) => -x.Select((v, i) => Math.Pow(1e6, i / 4.0) * Math.Pow(v - Optimum[i], 2)).Sum();
        var search = new CmaEs(new double[5], 1.0, seed: 5);
        var distance = Run(search, Ellipsoid, 400);
        Assert.True(distance < 1e-5, $"mean {distance} from the optimum after {search.Generation} generations (σ {search.Sigma})");
    }

    [Fact]
    public void A_seed_fixes_every_point_and_the_default_population_follows_the_dimension()
    {
        var a = new CmaEs(new double[10], 0.5, seed: 7);
        var b = new CmaEs(new double[10], 0.5, seed: 7);
        Assert.Equal(4 + (int)Math.Floor(3 * Math.Log(10)), a.PopulationSize);
        Assert.Equal(a.Ask().SelectMany(p => p), b.Ask().SelectMany(p => p));
        Assert.NotEqual(a.Ask().SelectMany(p => p), new CmaEs(new double[10], 0.5, seed: 8).Ask().SelectMany(p => p));
    }

    [Fact]
    public void Scores_must_answer_the_points_asked()
    {
        var search = new CmaEs([0.0, 0.0], 1.0, seed: 1);
        Assert.Throws<InvalidOperationException>(() => search.Tell([1.0]));
        var points = search.Ask();
        Assert.Throws<ArgumentException>(() => search.Tell([1.0]));
        search.Tell([.. points.Select(_ => double.NaN)]); // non-finite scores rank last; nothing breaks
        Assert.All(search.Mean, m => Assert.True(double.IsFinite(m)));
        Assert.Throws<Tensors.EvolverException>(() => new CmaEs([], 1.0, seed: 1));
    }
}
