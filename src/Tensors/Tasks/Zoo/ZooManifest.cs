using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvolverActors.Tensors.Zoo;

/// <summary>Dev, in-domain test and out-of-domain scores of one model (the task's metric).</summary>
public sealed record SplitScores(
    [property: JsonPropertyName("dev")] double Dev,
    [property: JsonPropertyName("test")] double Test,
    [property: JsonPropertyName("ood")] double Ood);

/// <summary>One fine-tuned member of a zoo.</summary>
public sealed record ZooModel(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("dev")] double Dev,
    [property: JsonPropertyName("test")] double Test,
    [property: JsonPropertyName("ood")] double Ood,
    [property: JsonPropertyName("own")] double? Own,
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("fisher")] string? Fisher = null,
    [property: JsonPropertyName("gram")] string? Gram = null);

/// <summary>
/// manifest.json of a zoo: where the models are, how they were made (base, data partition, seed) and how each
/// scores, plus the simple-average merge, and (zoos built since tasks are data-driven) the task file that scores its
/// exported splits (<see cref="ZooDataExport"/>). Paths are relative to the manifest's directory.
/// </summary>
public sealed record ZooManifest(
    [property: JsonPropertyName("recipe")] string Recipe,
    [property: JsonPropertyName("task")] string Task,
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("base")] string Base,
    [property: JsonPropertyName("partition")] IReadOnlyDictionary<string, JsonElement> Partition,
    [property: JsonPropertyName("models")] IReadOnlyList<ZooModel> Models,
    [property: JsonPropertyName("average")] SplitScores Average,
    [property: JsonPropertyName("base_scores")] SplitScores BaseScores,
    [property: JsonPropertyName("build_seconds")] double BuildSeconds,
    [property: JsonPropertyName("task_file")] string? TaskFile = null)
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public void Save(string directory) =>
        File.WriteAllText(System.IO.Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Options) + "\n");

    public static ZooManifest Load(string directory)
    {
        var path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new EvolverException($"{path}: no zoo manifest here (build one with 'evolver zoo build')");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new EvolverException($"{path}: not valid JSON ({e.Message.ReplaceLineEndings(" ")})");
        }
        using (document)
        {
            ZooManifestCheck.Validate(document.RootElement, path);
            try
            {
                return document.RootElement.Deserialize<ZooManifest>()
                    ?? throw new EvolverException($"{path}: empty zoo manifest");
            }
            catch (JsonException e)
            {
                var field = e.Path is { Length: > 2 } p ? $"field '{p[2..]}': " : "";
                throw new EvolverException($"{path}: {field}not a valid zoo manifest ({e.Message.Split(" Path:")[0].ReplaceLineEndings(" ")})");
            }
        }
    }

    /// <summary>The table printed after a build (and saved as table.md).</summary>
    public string Table()
    {
        var rows = new List<string[]> { new[] { "model", "data", $"dev", "test", "ood", "own" } };
        rows.Add(["base", "the common starting point", F(BaseScores.Dev), F(BaseScores.Test), F(BaseScores.Ood), ""]);
        rows.AddRange(Models.Select(m => new[] { m.Name, m.Data, F(m.Dev), F(m.Test), F(m.Ood), m.Own is { } own ? F(own) : "" }));
        rows.Add(["average (merge)", $"{Models.Count} models", F(Average.Dev), F(Average.Test), F(Average.Ood), ""]);
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var lines = rows.Select(r => "| " + string.Join(" | ", r.Select((c, i) => i < 2 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |").ToList();
        lines.Insert(1, "|" + string.Join("|", widths.Select((w, i) => i < 2 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        return $"zoo {Recipe} (seed {Seed}), metric {Metric}; dev selects, test and ood are only reported\n" + string.Join("\n", lines) + "\n";
    }

    private static string F(double value) => value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
}
