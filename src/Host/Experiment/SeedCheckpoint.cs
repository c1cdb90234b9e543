using System.Text.Json;

namespace EvolverActors.Host.Experiment;

/// <summary>Everything one seed of an experiment produced, as <see cref="SeedCheckpoint"/> keeps it.</summary>
internal sealed record SeedRecord(string Settings, int Seed, IReadOnlyList<SeedResult> Results, IReadOnlyList<SeedResult> Generational,
    IReadOnlyList<Curve> Curves);

/// <summary>
/// One file per finished seed (<c>&lt;out&gt;/&lt;recipe&gt;[-quick]-seeds/seed-K.json</c>), written when the seed ends, so an
/// experiment that stops (a crash, a reboot, Ctrl-C) resumes at the first unfinished seed, and a run with more
/// <c>--seeds</c> adds seeds to the ones done. A file made with other settings (budget, run cap, the methods compared)
/// is not reused: that seed runs again.
/// </summary>
internal sealed class SeedCheckpoint(string directory, string settings)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The checkpoint of <paramref name="request"/>: its directory, and the settings a seed file must match.</summary>
    public static SeedCheckpoint For(ExperimentRequest request) => new(
        Path.Combine(request.OutDirectory, $"{request.Recipe}{(request.Quick ? "-quick" : "")}-seeds"),
        string.Join(";",
            $"recipe={request.Recipe}", $"quick={request.Quick}", $"evaluations={request.Evaluations?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "reference"}",
            $"run-minutes={request.RunMinutes}", $"methods={string.Join(",", ExperimentRunner.EvolverMethods)}"));

    public string Directory { get; } = directory;

    /// <summary>The finished seed <paramref name="seed"/>, or null (no file, another experiment's, or unreadable) with the reason.</summary>
    public (SeedRecord? Record, string? Why) Load(int seed)
    {
        var path = PathOf(seed);
        if (!File.Exists(path))
        {
            return (null, null);
        }
        try
        {
            var record = JsonSerializer.Deserialize<SeedRecord>(File.ReadAllText(path), Options);
            return record is null ? (null, $"{path}: empty")
                : record.Seed != seed ? (null, $"{path}: holds seed {record.Seed}")
                : record.Settings != settings ? (null, $"{path}: made with other settings ({record.Settings})")
                : (record, null);
        }
        catch (JsonException e)
        {
            return (null, $"{path}: unreadable ({e.Message})");
        }
    }

    /// <summary>Writes a finished seed: a temporary file renamed over the old one, so a crash leaves the old or the new.</summary>
    public string Save(int seed, IReadOnlyList<SeedResult> results, IReadOnlyList<SeedResult> generational, IReadOnlyList<Curve> curves)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(seed);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new SeedRecord(settings, seed, results, generational, curves), Options) + "\n");
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    private string PathOf(int seed) => Path.Combine(Directory, $"seed-{seed}.json");
}
