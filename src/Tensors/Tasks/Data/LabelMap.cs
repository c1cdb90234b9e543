using System.Globalization;
using System.Text.Json;

namespace EvolverActors.Tensors.Data;

/// <summary>
/// Turns the labels of a data file into class numbers. With class names (a task's <c>labels = [neg, pos]</c>, or a
/// model's <c>config.json</c> <c>id2label</c> / <c>label2id</c>) a label is a class name or its number; without them
/// it must be a whole number 0..K-1. Every refusal is one line naming the file and line.
/// </summary>
public sealed class LabelMap
{
    private readonly Dictionary<string, int>? _byName;

    private LabelMap(IReadOnlyList<string>? names, string? origin, int? classCount)
    {
        Names = names;
        Origin = origin;
        ClassCount = names?.Count ?? classCount;
        if (names is not null)
        {
            _byName = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                if (!_byName.TryAdd(names[i], i))
                {
                    throw new EvolverException($"{origin}: the class name '{names[i]}' appears twice");
                }
            }
        }
    }

    /// <summary>The class names, index = class number; null when labels are plain numbers.</summary>
    public IReadOnlyList<string>? Names { get; }

    /// <summary>Where the names came from (for messages).</summary>
    public string? Origin { get; }

    /// <summary>The number of classes when known (names, or the model's head); null when only the data can tell.</summary>
    public int? ClassCount { get; }

    /// <summary>Labels named by <paramref name="names"/> (class i = names[i]); <paramref name="origin"/> says where they are set.</summary>
    public static LabelMap Named(IReadOnlyList<string> names, string origin) =>
        names.Count >= 2 ? new LabelMap(names, origin, null) : throw new EvolverException($"{origin}: needs at least two class names");

    /// <summary>Whole-number labels 0..K-1; <paramref name="classCount"/> K when known (the model's head).</summary>
    public static LabelMap Numbers(int? classCount) => new(null, null, classCount);

    /// <summary>
    /// The class names of a Hugging Face <c>config.json</c> (<c>id2label</c>, else <c>label2id</c>), or null when it
    /// has neither or the file is absent.
    /// </summary>
    public static IReadOnlyList<string>? FromModelConfig(string configPath)
    {
        if (!File.Exists(configPath))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(configPath));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var byId = new SortedDictionary<int, string>();
            if (root.TryGetProperty("id2label", out var id2Label) && id2Label.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in id2Label.EnumerateObject())
                {
                    byId[Id(entry.Name, configPath, "id2label")] = entry.Value.ToString();
                }
            }
            else if (root.TryGetProperty("label2id", out var label2Id) && label2Id.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in label2Id.EnumerateObject())
                {
                    byId[Id(entry.Value.ToString(), configPath, "label2id")] = entry.Name;
                }
            }
            if (byId.Count == 0)
            {
                return null;
            }
            if (byId.Keys.First() != 0 || byId.Keys.Last() != byId.Count - 1)
            {
                throw new EvolverException($"{configPath}: the label ids are not 0..{byId.Count - 1}");
            }
            return [.. byId.Values];
        }
        catch (JsonException e)
        {
            throw new EvolverException($"{configPath}: not valid JSON ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>The class number of <paramref name="label"/>; <paramref name="where"/> names the file and line.</summary>
    public int Map(string label, string where)
    {
        if (_byName is not null && _byName.TryGetValue(label, out var named))
        {
            return named;
        }
        if (int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            if (ClassCount is { } k && number >= k)
            {
                throw new EvolverException($"{where}: label {number} is out of range: there are {k} classes (0..{k - 1}){From()}");
            }
            return number;
        }
        if (_byName is not null)
        {
            throw new EvolverException($"{where}: unknown label '{label}': the classes are [{string.Join(", ", Names!)}]{From()}");
        }
        throw new EvolverException(
            $"{where}: label '{label}' is not a class number 0..K-1: name the classes in the task settings, e.g. labels = [negative, positive]");
    }

    /// <summary>The class names for <paramref name="classCount"/> classes: the given names, else "0", "1", ...</summary>
    public IReadOnlyList<string> ClassNames(int classCount) =>
        Names ?? [.. Enumerable.Range(0, classCount).Select(c => c.ToString(CultureInfo.InvariantCulture))];

    private string From() => Origin is null ? "" : $" (from {Origin})";

    private static int Id(string text, string path, string key) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new EvolverException($"{path}: {key} has the id '{text}', which is not a whole number");
}
