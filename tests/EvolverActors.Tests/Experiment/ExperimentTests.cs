using System.Text.Json;
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
        var report = new ExperimentReport("mnist-noniid", [0], "accuracy", "evolver experiment", ExperimentReport.Summarize(results),
            [new Curve("evolver+average", 0, [[5, 0.8], [76, 0.9]])], results);
        using var json = JsonDocument.Parse(report.ToJson());
        var methods = json.RootElement.GetProperty("methods");
        Assert.Equal(2, methods.GetArrayLength());
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
        Assert.Contains("| evolver+average | 0.9000 ± 0.0000 | 0.8000 ± 0.0000 | 0.7000 ± 0.0000 |", report.ToMarkdown(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_charts_are_svg_with_one_bar_pair_per_method()
    {
        var results = new[] { new SeedResult("average", 0, 0.7, 0.6, 0.5, 1, 0, ""), new SeedResult("ties", 0, 0.8, 0.7, 0.6, 4, 0, "") };
        var methods = ExperimentReport.Summarize(results);
        var bars = SvgCharts.Bars("t", methods, [("test", m => m.Test), ("ood", m => m.Ood)]);
        Assert.StartsWith("<svg", bars, StringComparison.Ordinal);
        Assert.Equal(4 + 2, bars.Split("<rect ").Length - 1 - 1); // 4 bars + 2 legend swatches (+ background)
        var lines = SvgCharts.Lines("t", [new Curve("evolver+average", 0, [[5, 0.8], [76, 0.9]])]);
        Assert.Contains("<polyline", lines, StringComparison.Ordinal);
    }
}
