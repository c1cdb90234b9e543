using System.Text.Json;
using EvolverActors.Actors.Steward;
using EvolverActors.Host.Experiment;
using Xunit;

namespace EvolverActors.Tests.Experiment;

public sealed class ExperimentTests
{
    [Fact]
    public void Dev_selection_picks_the_candidate_with_the_best_dev_score()
    {
        // Fake scorers: dev and test disagree, so picking on test would choose another candidate.
        var dev = new Dictionary<string, double> { ["a"] = 0.6, ["b"] = 0.9, ["c"] = 0.7 };
        var test = new Dictionary<string, double> { ["a"] = 0.99, ["b"] = 0.5, ["c"] = 0.8 };
        var scored = new List<string>();
        var (best, score, evaluated) = DevSelection.Best(["a", "b", "c"], c =>
        {
            scored.Add(c);
            return dev[c];
        });
        Assert.Equal("b", best);
        Assert.Equal(0.9, score);
        Assert.Equal(3, evaluated);
        Assert.Equal(["a", "b", "c"], scored);
        Assert.NotEqual(test.MaxBy(kv => kv.Value).Key, best);
    }

    [Fact]
    public void Dev_selection_keeps_the_first_candidate_on_ties()
    {
        var (best, _, _) = DevSelection.Best([1, 2, 3], c => c == 1 ? 0.5 : c == 2 ? 0.8 : 0.8);
        Assert.Equal(2, best);
    }

    [Fact]
    public void Mean_and_sample_std_over_seeds()
    {
        var s = MeanStd.Of([0.8, 0.9, 1.0]);
        Assert.Equal(0.9, s.Mean, 12);
        Assert.Equal(0.1, s.Std, 12);
        Assert.Equal(new MeanStd(0.7, 0), MeanStd.Of([0.7]));
        Assert.True(double.IsNaN(MeanStd.Of([]).Mean));
    }

    [Fact]
    public void Summaries_group_per_method_in_first_seen_order()
    {
        SeedResult R(string m, int seed, double v) => new(m, seed, v, v + 0.01, v - 0.1, 10 * (seed + 1), seed + 1, "x");
        var rows = ExperimentReport.Summarize([R("average", 0, 0.8), R("ties", 0, 0.7), R("average", 1, 0.9), R("ties", 1, 0.7)]);
        Assert.Equal(["average", "ties"], rows.Select(r => r.Name));
        Assert.Equal(0.85, rows[0].Dev.Mean, 12);
        Assert.Equal(0.86, rows[0].Test.Mean, 12);
        Assert.Equal(0.0, rows[1].Ood.Std, 12);
        Assert.Equal(15, rows[0].Evaluations);
        Assert.Equal(1.5, rows[0].WallSeconds);
        Assert.Equal(2, rows[0].Seeds);
    }

    [Fact]
    public void The_json_has_methods_with_name_scores_evaluations_and_wall_time()
    {
        var results = new[]
        {
            new SeedResult("individual:model-0", 0, 0.7, 0.6, 0.5, 0, 0, "zoo manifest"),
            new SeedResult("evolver+average", 0, 0.9, 0.8, 0.7, 76, 12.5, "3 accepted"),
        };
        using var json = JsonDocument.Parse(Report(results).ToJson());
        Assert.Equal(["recipe", "seeds", "metric", "command", "methods", "schedules", "curves", "per_seed", "paired"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        var methods = json.RootElement.GetProperty("methods");
        Assert.Equal(2, methods.GetArrayLength());
        Assert.Equal(["name", "dev", "test", "ood", "evaluations", "wall_s", "seeds", "chosen"], methods[0].EnumerateObject().Select(p => p.Name));
        var evolved = methods[1];
        Assert.Equal("evolver+average", evolved.GetProperty("name").GetString());
        foreach (var split in new[] { "dev", "test", "ood" })
        {
            Assert.Equal(JsonValueKind.Number, evolved.GetProperty(split).GetProperty("mean").ValueKind);
            Assert.Equal(JsonValueKind.Number, evolved.GetProperty(split).GetProperty("std").ValueKind);
        }
        Assert.Equal(0.8, evolved.GetProperty("test").GetProperty("mean").GetDouble());
        Assert.Equal(76, evolved.GetProperty("evaluations").GetDouble());
        Assert.Equal(12.5, evolved.GetProperty("wall_s").GetDouble());
        Assert.Contains("| evolver+average | 0.9000 ± 0.0000 | 0.8000 ± 0.0000 | 0.7000 ± 0.0000 |", Report(results).ToMarkdown(), StringComparison.Ordinal);
        var perSeed = json.RootElement.GetProperty("per_seed")[1];
        Assert.Equal(["method", "seed", "dev", "test", "ood", "evaluations", "wall_s", "detail"], perSeed.EnumerateObject().Select(p => p.Name));
        var point = json.RootElement.GetProperty("curves")[0].GetProperty("points")[1];
        Assert.Equal(["evaluations", "seconds", "best_dev"], point.EnumerateObject().Select(p => p.Name));
        Assert.Equal("steady-state", json.RootElement.GetProperty("curves")[0].GetProperty("schedule").GetString());
    }

    [Fact]
    public void The_markdown_lists_per_seed_details_once_when_all_seeds_agree()
    {
        var results = new[]
        {
            new SeedResult("average", 0, 0.7, 0.6, 0.5, 1, 0, "defaults"), new SeedResult("average", 1, 0.7, 0.6, 0.5, 1, 0, "defaults"),
            new SeedResult("evolver+average", 0, 0.9, 0.8, 0.7, 76, 12.5, "7 accepted"),
            new SeedResult("evolver+average", 1, 0.9, 0.8, 0.7, 76, 12.5, "7 accepted"),
            new SeedResult("evolver+average", 2, 0.9, 0.8, 0.7, 76, 12.5, "4 accepted"),
        };
        var markdown = Report(results).ToMarkdown();
        Assert.Contains("| defaults |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 7 accepted; 7 accepted; 4 accepted |", markdown, StringComparison.Ordinal);
        Assert.Contains("Schedules, the same Evolver configuration run both ways", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_evolver_run_gets_fifteen_generations_of_offspring_after_its_initial_scoring()
    {
        Assert.Equal(76, ExperimentRunner.ReferenceBudget(5, individual: false));
        Assert.Equal(80, ExperimentRunner.ReferenceBudget(5, individual: true));
    }

    [Fact]
    public void Progress_is_the_best_dev_so_far_at_each_acceptance_with_seconds_since_the_initial_scoring()
    {
        var launched = new DateTime(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc);
        OffspringAccepted Accepted(long evaluation, double score, double seconds) => new(evaluation, 0, "w", "p", [0, 1, 2], ["a", "b", "c"],
            "evolver", 0.5, 0.5, "binomial", true, "element", 1, score, 0.5, evaluation, "cpu", launched.AddSeconds(seconds));
        var state = new StewardState { Evaluations = 20 };
        var ledger = new LedgerReport(state, [new RunInitialized(["a", "b"], [0.6, 0.7], 0.65, 2, launched.AddSeconds(3))],
            [Accepted(9, 0.68, 8), Accepted(5, 0.72, 6), Accepted(12, 0.75, 10)], 5, []);

        var individual = ExperimentRunner.ProgressOf(ledger, individual: true, finished: launched.AddSeconds(15));
        Assert.Equal([2L, 5, 9, 12, 20], individual.Select(p => p.Evaluations));
        Assert.Equal([0.7, 0.72, 0.72, 0.75, 0.75], individual.Select(p => p.BestDev));
        Assert.Equal([0.0, 3, 5, 7, 12], individual.Select(p => p.Seconds));

        var merged = ExperimentRunner.ProgressOf(ledger, individual: false, finished: launched.AddSeconds(15));
        Assert.Equal(0.65, merged[0].BestDev);
    }

    [Fact]
    public void Write_makes_the_json_the_markdown_and_five_png_charts()
    {
        var results = new[]
        {
            new SeedResult("average", 0, 0.7, 0.6, 0.5, 1, 0, ""), new SeedResult("ties", 0, 0.8, 0.7, 0.6, 4, 0, ""),
            new SeedResult("evolver-individual", 0, 0.9, 0.8, 0.7, 76, 12.5, "3 accepted"),
        };
        var directory = Directory.CreateTempSubdirectory("experiment-").FullName;
        try
        {
            var files = ExperimentRunner.Write(Report(results), directory, TextWriter.Null);
            Assert.Equal(7, files.Count);
            foreach (var png in files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
            {
                var bytes = File.ReadAllBytes(png);
                Assert.True(bytes.Length > 5_000, $"{png} is only {bytes.Length} bytes");
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            }
            Assert.True(File.Exists(Path.Combine(directory, "mnist-noniid.json")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ExperimentReport Report(IReadOnlyList<SeedResult> results)
    {
        CurvePoint[] points = [new(5, 1.5, 0.8), new(40, 6.0, 0.85), new(76, 12.5, 0.9)];
        return new ExperimentReport("mnist-noniid", [0], "accuracy", "evolver experiment", ExperimentReport.Summarize(results),
            ExperimentReport.Summarize([results[^1] with { Method = "evolver-individual (steady-state)" }]),
            [new Curve("evolver-individual", "steady-state", 0, points), new Curve("evolver-individual", "generational", 0, points)], results,
            PairedComparison.Compare(results, ["average", "ties"]));
    }

    [Fact]
    public void Paired_comparisons_pair_by_seed_count_wins_ties_and_losses_and_bound_the_mean_with_a_bootstrap_interval()
    {
        // evolver+average vs average on test: differences +0.02, 0, −0.01, +0.03, +0.01 over five seeds.
        double[] baseline = [0.80, 0.82, 0.85, 0.79, 0.81];
        double[] evolved = [0.82, 0.82, 0.84, 0.82, 0.82];
        var results = baseline.Select((t, seed) => new SeedResult("average", seed, 0.9, t, 0.5, 1, 0, ""))
            .Concat(evolved.Select((t, seed) => new SeedResult("evolver+average", seed, 0.95, t, 0.5 - 0.01 * seed, 76, 1, "")))
            .Append(new SeedResult("ties", 0, 0.5, 0.5, 0.5, 4, 0, "")) // worse on dev: not the best merge
            .ToList();

        var paired = PairedComparison.Compare(results, ["average", "ties", "fisher"]);
        // evolver+average vs its own merge, which is also the best merge by dev: once per split, not twice.
        Assert.Equal([("evolver+average", "average", "test"), ("evolver+average", "average", "ood")], paired.Select(p => (p.A, p.B, p.Split)));
        var test = paired[0];
        Assert.Equal(0.01, test.MeanDiff, 12);
        Assert.Equal((3, 1, 1), (test.Wins, test.Ties, test.Losses));
        Assert.InRange(test.CiLow, -0.01, test.MeanDiff);
        Assert.InRange(test.CiHigh, test.MeanDiff, 0.03);
        Assert.True(test.CiLow < test.CiHigh);
        // Deterministic: the same scores give the same interval.
        Assert.Equal(test, PairedComparison.Compare(results, ["average", "ties", "fisher"])[0]);
        var ood = paired[1];
        Assert.Equal(-0.02, ood.MeanDiff, 12);
        Assert.Equal((0, 1, 4), (ood.Wins, ood.Ties, ood.Losses));
        Assert.True(ood.CiHigh <= 0);

        using var json = JsonDocument.Parse(Report(results).ToJson());
        Assert.Equal(["a", "b", "split", "mean_diff", "ci_low", "ci_high", "wins", "ties", "losses"],
            json.RootElement.GetProperty("paired")[0].EnumerateObject().Select(p => p.Name));
        Assert.Contains("| evolver+average | average | test | +0.0100 |", Report(results).ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_evolved_coefficient_merge_is_paired_with_evolver_from_it_and_with_the_papers_two_evolver_forms()
    {
        string[] methods = ["average", ExperimentRunner.EvolvedMerge, "evolver-individual", "evolver+average", "evolver+evolved-linear"];
        var results = methods.SelectMany(m => Enumerable.Range(0, 3).Select(seed => new SeedResult(m, seed, m == "average" ? 0.95 : 0.9, 0.8, 0.5, 76, 1, ""))).ToList();

        var pairs = PairedComparison.Compare(results, ["average", ExperimentRunner.EvolvedMerge], ExperimentRunner.EvolvedMerge)
            .Where(p => p.Split == "test").Select(p => (p.A, p.B)).ToList();

        Assert.Contains(("evolver+evolved-linear", "evolved-linear"), pairs);
        Assert.Contains(("evolver-individual", "evolved-linear"), pairs);
        Assert.Contains(("evolver+average", "evolved-linear"), pairs);
        Assert.Contains(("evolver+evolved-linear", "average"), pairs); // and, as every variant, with the best merge by dev
        Assert.Equal(pairs.Count, pairs.Distinct().Count());
        Assert.Contains(PairedComparison.EvolverOf(ExperimentRunner.EvolvedMerge), ExperimentRunner.EvolverMethods);
    }

    [Fact]
    public void A_run_cap_below_one_minute_is_refused_in_one_line_before_anything_runs()
    {
        var (code, _, error) = CliRunner.Run("experiment", "--recipe", "mnist-noniid", "--run-minutes", "0");
        Assert.Equal(2, code);
        Assert.Equal("error: --run-minutes 0: must be at least 1", error.Trim());
    }

    [Fact]
    public void A_constant_difference_has_a_zero_width_interval()
    {
        var comparison = PairedComparison.Of("a", "b", "test", [0.25, 0.25, 0.25]); // exact in binary: sums and means stay exact
        Assert.Equal((0.25, 0.25, 0.25), (comparison.MeanDiff, comparison.CiLow, comparison.CiHigh));
        Assert.Throws<ArgumentException>(() => PairedComparison.Of("a", "b", "test", []));
    }
}
