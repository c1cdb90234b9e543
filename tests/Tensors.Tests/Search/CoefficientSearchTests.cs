using EvolverActors.Tensors.Search;
using Xunit;

namespace EvolverActors.Tests.Search;

/// <summary>The search as a sequence of candidates that anyone knowing the scores can replay (a resumed run's breeder).</summary>
public sealed class CoefficientSearchTests
{
    /// <summary>A fixed score per candidate: its distance from a point off the start, so CMA-ES moves.</summary>
    private static double Score(double[] logits) => -logits.Select((x, i) => (x - 0.3 * (i % 3)) * (x - 0.3 * (i % 3))).Sum();

    /// <summary>Draws <paramref name="count"/> candidates in order, scoring each as drawn.</summary>
    private static (List<double[]> Candidates, List<double?> Scores) Straight(int count)
    {
        var search = new CoefficientSearch(6, CoefficientSearch.DefaultSigma, 7);
        var candidates = new List<double[]>();
        var scores = new List<double?>();
        for (var n = 0; n < count; n++)
        {
            candidates.Add(search.Candidate(n, scores));
            scores.Add(Score(candidates[^1]));
        }
        return (candidates, scores);
    }

    [Fact]
    public void A_fresh_search_given_the_scores_draws_the_same_candidates_from_any_point()
    {
        var (candidates, scores) = Straight(40);
        var lambda = new CoefficientSearch(6, CoefficientSearch.DefaultSigma, 7).GenerationSize;
        Assert.True(40 > 3 * lambda, "the sequence spans several generations");
        foreach (var n in new[] { 39, 2 * lambda + 1, lambda, 3 })
        {
            // A new search (a resumed breeder) replays the generations before n from the scores; going back restarts it.
            var replayed = new CoefficientSearch(6, CoefficientSearch.DefaultSigma, 7);
            Assert.Equal(candidates[n], replayed.Candidate(n, scores[..(n / lambda * lambda)]));
            Assert.Equal(candidates[1], replayed.Candidate(1, []));
        }
        Assert.NotEqual(candidates[0], candidates[lambda]); // the scores moved the search
    }

    [Fact]
    public void Another_seed_or_other_scores_give_other_candidates_and_missing_scores_are_refused()
    {
        var (candidates, scores) = Straight(30);
        var lambda = new CoefficientSearch(6, CoefficientSearch.DefaultSigma, 7).GenerationSize;
        Assert.NotEqual(candidates[0], new CoefficientSearch(6, CoefficientSearch.DefaultSigma, 8).Candidate(0, []));
        var reversed = scores.Take(lambda).Select(s => (double?)-s!.Value).ToList();
        Assert.NotEqual(candidates[lambda], new CoefficientSearch(6, CoefficientSearch.DefaultSigma, 7).Candidate(lambda, reversed));
        // A failed candidate (null) counts as the worst, as a non-finite score does.
        var failed = scores.Take(lambda).Select((s, i) => i == 0 ? null : s).ToList();
        var worst = scores.Take(lambda).Select((s, i) => i == 0 ? double.NegativeInfinity : s).ToList();
        Assert.Equal(new CoefficientSearch(6, 0.5, 7).Candidate(lambda, failed), new CoefficientSearch(6, 0.5, 7).Candidate(lambda, worst));
        Assert.Throws<InvalidOperationException>(() => new CoefficientSearch(6, 0.5, 7).Candidate(lambda, scores[..(lambda - 1)]));
    }

    [Fact]
    public void The_weights_are_a_per_layer_softmax_and_a_vector_of_the_wrong_length_is_refused()
    {
        var weights = CoefficientSearch.WeightsOf([0, 0, Math.Log(3), 0], ["fc1", "fc2"], models: 2);
        Assert.Equal([0.5, 0.5], weights["fc1"]);
        Assert.Equal(0.75, weights["fc2"][0], 12);
        Assert.Equal(4, CoefficientSearch.Dimensions(["fc1.weight", "fc1.bias", "fc2.weight"], models: 2));
        var e = Assert.Throws<Tensors.EvolverException>(() => CoefficientSearch.WeightsOf([0, 0, 0], ["fc1", "fc2"], models: 2));
        Assert.Contains("3 logits", e.Message);
    }
}
