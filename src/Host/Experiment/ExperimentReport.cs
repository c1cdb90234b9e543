using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvolverActors.Host.Experiment;

/// <summary>One method's outcome on one seed.</summary>
internal sealed record SeedResult(
    string Method, int Seed, double Dev, double Test, double Ood, long Evaluations,
    [property: JsonPropertyName("wall_s")] double WallSeconds, string Detail);

/// <summary>The best dev score so far after <see cref="Evaluations"/> evaluations, <see cref="Seconds"/> after the initial scoring.</summary>
internal sealed record CurvePoint(long Evaluations, double Seconds, double BestDev);

/// <summary>One Evolver run's progress: a point at the initial scoring, one per accepted offspring, one at the end.</summary>
internal sealed record Curve(string Method, string Schedule, int Seed, IReadOnlyList<CurvePoint> Points);

/// <summary>One row of the results: each score as mean ± std over seeds.</summary>
internal sealed record MethodSummary(
    string Name, MeanStd Dev, MeanStd Test, MeanStd Ood, double Evaluations,
    [property: JsonPropertyName("wall_s")] double WallSeconds, int Seeds, IReadOnlyList<string> Chosen);

/// <summary>
/// The experiment's file: <c>methods</c> (every method, steady-state for Evolver), <c>schedules</c> (the same Evolver
/// configuration run steady-state and generational), how it was made, the runs' curves, every per-seed score, and
/// <c>paired</c>: the comparisons by seed (<see cref="PairedComparison"/>).
/// </summary>
internal sealed record ExperimentReport(
    string Recipe,
    IReadOnlyList<int> Seeds,
    string Metric,
    string Command,
    IReadOnlyList<MethodSummary> Methods,
    IReadOnlyList<MethodSummary> Schedules,
    IReadOnlyList<Curve> Curves,
    IReadOnlyList<SeedResult> PerSeed,
    IReadOnlyList<PairedComparison> Paired)
{
    // snake_case keys, as in the zoo manifest; only "wall_s" is spelled out on its properties.
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Groups per-seed results by method (in first-seen order) into mean ± std rows.</summary>
    public static IReadOnlyList<MethodSummary> Summarize(IEnumerable<SeedResult> results) =>
    [
        .. results.GroupBy(r => r.Method, StringComparer.Ordinal).Select(g =>
        {
            var rows = g.ToList();
            return new MethodSummary(g.Key, MeanStd.Of([.. rows.Select(r => r.Dev)]), MeanStd.Of([.. rows.Select(r => r.Test)]),
                MeanStd.Of([.. rows.Select(r => r.Ood)]), rows.Average(r => (double)r.Evaluations), rows.Average(r => r.WallSeconds),
                rows.Count, [.. rows.Select(r => r.Detail)]);
        }),
    ];

    public string ToJson() => JsonSerializer.Serialize(this, Options) + "\n";

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {Recipe}: {Seeds.Count} seed(s), metric {Metric}, selection on dev only\n\n");
        text.Append(CultureInfo.InvariantCulture, $"`{Command}`\n\n");
        Table(text, Methods, "chosen on dev (per seed)");
        if (Schedules.Count > 0)
        {
            text.Append("\nSchedules, the same Evolver configuration run both ways:\n\n");
            Table(text, Schedules, "accepted (per seed)");
        }
        if (Paired.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"\nPaired by seed (same zoo, same data): mean of a − b over {Seeds.Count} seed(s), its 95 % bootstrap interval ({PairedComparison.Resamples} resamples), and seeds won / tied / lost by a. ");
            text.Append("An interval that excludes 0 is a difference these seeds support; one that spans 0 is not shown to be one.\n\n");
            text.Append("| a | b | split | mean a − b | 95 % CI | won / tied / lost |\n|---|---|---|---:|---|---|\n");
            foreach (var p in Paired)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"| {p.A} | {p.B} | {p.Split} | {p.MeanDiff:+0.0000;-0.0000;0.0000} | [{p.CiLow:+0.0000;-0.0000;0.0000}, {p.CiHigh:+0.0000;-0.0000;0.0000}] | {p.Wins} / {p.Ties} / {p.Losses} |\n");
            }
        }
        return text.ToString();
    }

    private static void Table(StringBuilder text, IReadOnlyList<MethodSummary> rows, string detail)
    {
        text.Append(CultureInfo.InvariantCulture, $"| method | dev | test (in-domain) | ood | evaluations | wall s | {detail} |\n");
        text.Append("|---|---:|---:|---:|---:|---:|---|\n");
        foreach (var m in rows)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"| {m.Name} | {F(m.Dev)} | {F(m.Test)} | {F(m.Ood)} | {m.Evaluations:F0} | {m.WallSeconds:F1} | {OnePerSeed(m.Chosen)} |\n");
        }
    }

    /// <summary>One entry when every seed agrees, else one per seed in seed order.</summary>
    private static string OnePerSeed(IReadOnlyList<string> details) =>
        details.Distinct().Count() == 1 ? details[0] : string.Join("; ", details);

    private static string F(MeanStd s) => string.Create(CultureInfo.InvariantCulture, $"{s.Mean:F4} ± {s.Std:F4}");
}
