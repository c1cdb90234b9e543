using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using EvolverActors.Tensors.Checkpoints;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// What a run is, written once to <c>run.json</c> and checked on every resume: the semantic settings that
/// must not change (mode, merge method, operator, seed, schedule, … as key → value text) and the starting
/// population, slot by slot. <see cref="ConfigHash"/> (of the whole config text) is recorded for reference
/// only: budgets and logging may change on resume, the settings may not. <see cref="WorkingDirectory"/> is where the run
/// was created (the directory relative paths in its config, such as the zoo, are relative to); it is not compared, and
/// runs created before it was recorded have none.
/// </summary>
public sealed record RunFingerprint(
    [property: JsonPropertyName("config_hash")] string ConfigHash,
    [property: JsonPropertyName("settings")] IReadOnlyDictionary<string, string> Settings,
    [property: JsonPropertyName("members")] IReadOnlyList<MemberFingerprint> Members,
    [property: JsonPropertyName("working_directory")] string? WorkingDirectory = null)
{
    /// <summary>Characters of a SHA-256 shown in messages.</summary>
    private const int ShortSha = 12;

    /// <summary>
    /// The first way <paramref name="current"/> differs from this (recorded) fingerprint, as the end of the
    /// sentence "run 'x' belongs to …", or null when the run may resume with it. Population first, then
    /// settings in key order.
    /// </summary>
    public string? FirstDifference(RunFingerprint current)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (FirstPopulationDifference(current) is { } population)
        {
            return "a different population: " + population;
        }
        foreach (var key in Settings.Keys.Union(current.Settings.Keys).Order(StringComparer.Ordinal))
        {
            var was = Settings.TryGetValue(key, out var w) ? w : null;
            var now = current.Settings.TryGetValue(key, out var n) ? n : null;
            if (!string.Equals(was, now, StringComparison.Ordinal))
            {
                return $"a different config: {key} was {was ?? "unset"} and is now {now ?? "unset"}";
            }
        }
        return null;
    }

    /// <summary>
    /// SHA-256 (lower-case hex) of a checkpoint's bytes, header (layout) included, streamed: a .safetensors
    /// file, a sharded index (its shards in order), or a directory holding either.
    /// </summary>
    public static string Sha256OfCheckpoint(string path)
    {
        IReadOnlyList<string> files;
        using (var reader = Checkpoint.Open(path))
        {
            files = reader.Files;
        }
        return Sha256OfFiles(files);
    }

    /// <summary>SHA-256 (lower-case hex) of the bytes of <paramref name="files"/> one after the other, streamed.</summary>
    public static string Sha256OfFiles(IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>SHA-256 (lower-case hex) of a text, e.g. the run config for <see cref="ConfigHash"/>.</summary>
    public static string Sha256OfText(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>The first slot whose member differs from <paramref name="current"/>'s, in one phrase; null when the populations are the same.</summary>
    public string? FirstPopulationDifference(RunFingerprint current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var was = Members.ToDictionary(m => m.Slot);
        var now = current.Members.ToDictionary(m => m.Slot);
        foreach (var slot in was.Keys.Union(now.Keys).Order())
        {
            var w = was.GetValueOrDefault(slot);
            var n = now.GetValueOrDefault(slot);
            if (w is null || n is null || !w.SameAs(n))
            {
                return $"slot {slot.ToString(CultureInfo.InvariantCulture)} was {Describe(w)} and is now {Describe(n)}";
            }
        }
        return null;
    }

    private static string Describe(MemberFingerprint? member) =>
        member is null ? "empty" : $"{member.Name} (sha {Short(member.Sha256)})";

    private static string Short(string sha) => sha.Length <= ShortSha ? sha : sha[..ShortSha] + "…";
}

/// <summary>One starting member: its population slot, its name (checkpoint file name) and the SHA-256 of its checkpoint.</summary>
public sealed record MemberFingerprint(
    [property: JsonPropertyName("slot")] int Slot,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("sha256")] string Sha256)
{
    /// <summary>
    /// Same slot content: the same checkpoint bytes (case-insensitive hex). The name alone may change
    /// (a moved or renamed file is the same member).
    /// </summary>
    public bool SameAs(MemberFingerprint other) =>
        other is not null && string.Equals(Sha256, other.Sha256, StringComparison.OrdinalIgnoreCase);
}
