using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvolverActors.Host.Experiment;

/// <summary>One method's outcome on one seed.</summary>
internal sealed record SeedResult(string Method, int Seed, double Dev, double Test, double Ood, long Evaluations, double WallSeconds, string Detail);

/// <summary>Best dev score after each accepted offspring of one Evolver run.</summary>
internal sealed record Curve(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("points")] IReadOnlyList<double[]> Points);

/// <summary>One row of the results: each score as mean ± std over seeds.</summary>
internal sealed record MethodSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("dev")] MeanStd Dev,
    [property: JsonPropertyName("test")] MeanStd Test,
    [property: JsonPropertyName("ood")] MeanStd Ood,
    [property: JsonPropertyName("evaluations")] double Evaluations,
    [property: JsonPropertyName("wall_s")] double WallSeconds,
    [property: JsonPropertyName("seeds")] int Seeds,
    [property: JsonPropertyName("chosen")] IReadOnlyList<string> Chosen);

/// <summary>The experiment's file: <c>methods</c> plus how it was made and the runs' curves.</summary>
internal sealed record ExperimentReport(
    [property: JsonPropertyName("recipe")] string Recipe,
    [property: JsonPropertyName("seeds")] IReadOnlyList<int> Seeds,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("methods")] IReadOnlyList<MethodSummary> Methods,
    [property: JsonPropertyName("curves")] IReadOnlyList<Curve> Curves,
    [property: JsonPropertyName("per_seed")] IReadOnlyList<SeedResult> PerSeed)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

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
        text.Append("| method | dev | test (in-domain) | ood | evaluations | wall s | chosen on dev (per seed) |\n");
        text.Append("|---|---:|---:|---:|---:|---:|---|\n");
        foreach (var m in Methods)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"| {m.Name} | {F(m.Dev)} | {F(m.Test)} | {F(m.Ood)} | {m.Evaluations:F0} | {m.WallSeconds:F1} | {string.Join("; ", m.Chosen.Distinct())} |\n");
        }
        return text.ToString();
    }

    private static string F(MeanStd s) => string.Create(CultureInfo.InvariantCulture, $"{s.Mean:F4} ± {s.Std:F4}");
}
