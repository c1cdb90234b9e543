using System.Globalization;

namespace EvolverActors.Tensors.Configuration;

/// <summary>
/// One section of a configuration as a plain tree (strings, lists and nested sections), read by typed getters that
/// give one-line errors naming the full key. Every key a parser reads is remembered, so that
/// <see cref="RequireAllKnown"/> can refuse a misspelled or unknown key and name the closest known one: a config
/// with <c>fitnes { ... }</c> or <c>max-evaluation = 15</c> must not run with defaults. Parsers read every key
/// of their section unconditionally (also those their mode ignores), so that "known" means "a setting here".
/// The file format (HOCON) is turned into this tree once, at the edge (docs/architecture.md, "Configuration").
/// </summary>
public sealed class Settings
{
    private readonly Dictionary<string, object> _values;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly HashSet<string> _opaque = new(StringComparer.Ordinal);

    /// <param name="source">What the settings came from (a file path), for error messages.</param>
    /// <param name="path">The full key of this section (e.g. <c>evolver.run</c>); empty for the root.</param>
    /// <param name="values">Each key's value: a string, a list of values, or a nested <see cref="Settings"/>.</param>
    public Settings(string source, string path, IReadOnlyDictionary<string, object> values)
    {
        Source = source;
        Path = path;
        _values = new Dictionary<string, object>(values, StringComparer.Ordinal);
    }

    public string Source { get; }
    public string Path { get; }
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>The raw values (a string, a list, or a nested section), for writing a section back out.</summary>
    public IEnumerable<KeyValuePair<string, object>> Entries => _values;

    /// <summary>An empty section (every getter falls back to its default).</summary>
    public static Settings Empty(string source, string path) => new(source, path, new Dictionary<string, object>());

    /// <summary>The full key of <paramref name="key"/> in this section, as error messages name it.</summary>
    public string FullKey(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public bool Has(string key) => Lookup(key, markRead: false) is not null;

    /// <summary>Whether <paramref name="key"/> holds a nested section (not a value or a list).</summary>
    public bool IsSection(string key) => Lookup(key, markRead: false) is Settings;

    /// <summary>A nested section, or an empty one when absent (so its keys fall back to defaults).</summary>
    public Settings Section(string key) => Lookup(key) switch
    {
        null => Empty(Source, FullKey(key)),
        Settings section => section,
        _ => throw Problem(key, "must be a section { ... }"),
    };

    /// <summary>A nested section, or null when absent.</summary>
    public Settings? OptionalSection(string key) => Has(key) ? Section(key) : null;

    public string? OptionalText(string key) => Lookup(key) switch
    {
        null => null,
        string text => text,
        _ => throw Problem(key, "must be a single value, not a list or a section"),
    };

    public string Text(string key, string fallback) => OptionalText(key) ?? fallback;

    public string RequiredText(string key) =>
        OptionalText(key) is { Length: > 0 } text && !string.IsNullOrWhiteSpace(text) ? text : throw Problem(key, "is required");

    public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
        (int)Long(key, fallback, min, max);

    public long Long(string key, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        if (OptionalText(key) is not { } text)
        {
            return fallback;
        }
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw Problem(key, $"= '{text}' is not a whole number");
        }
        return InRange(key, value, min, max);
    }

    public double Double(string key, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        OptionalDouble(key, min, max) ?? fallback;

    public double? OptionalDouble(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (OptionalText(key) is not { } text)
        {
            return null;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw Problem(key, $"= '{text}' is not a finite number");
        }
        if (value < min || value > max)
        {
            throw Problem(key, $"= {text} is out of range [{Show(min)}, {Show(max)}]");
        }
        return value;
    }

    /// <summary>A size such as <c>4GB</c> (10^9), <c>4GiB</c> (2^30), <c>500MB</c> or a byte count; null when absent.</summary>
    public long? OptionalBytes(string key)
    {
        if (OptionalText(key) is not { } text)
        {
            return null;
        }
        return ByteSizes.TryParse(text) ?? throw Problem(key, $"= '{text}' is not a size: use e.g. 4GB, 500MB, 2GiB or a byte count");
    }

    public bool Bool(string key, bool fallback) => OptionalText(key)?.ToLowerInvariant() switch
    {
        null => fallback,
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        var other => throw Problem(key, $"= '{other}' is not on/off (or true/false, yes/no)"),
    };

    /// <summary>A duration such as <c>90s</c>, <c>10m</c>, <c>2h</c>, <c>1d</c>, <c>500ms</c>, or a number of seconds.</summary>
    public TimeSpan? Duration(string key, TimeSpan? max = null)
    {
        if (OptionalText(key) is not { } text)
        {
            return null;
        }
        var span = ParseDuration(text) ?? throw Problem(key, $"= '{text}' is not a duration (e.g. 90s, 10m, 2h, 1d)");
        if (span <= TimeSpan.Zero)
        {
            throw Problem(key, $"= {text} must be positive");
        }
        if (max is { } limit && span > limit)
        {
            throw Problem(key, $"= {text} is longer than the limit {limit}");
        }
        return span;
    }

    /// <summary>A list of single values; a lone value counts as a list of one. Null when absent.</summary>
    public IReadOnlyList<string>? OptionalList(string key) => Lookup(key) switch
    {
        null => null,
        string text => [text],
        IReadOnlyList<object> items => [.. items.Select((item, i) => item as string ?? throw Problem(key, $"item {i} must be a single value"))],
        _ => throw Problem(key, "must be a list [ ... ]"),
    };

    public IReadOnlyList<string> List(string key) => OptionalList(key) ?? [];

    /// <summary>A section of free-form key = value pairs (e.g. a merge method's parameters); its keys are not checked here.</summary>
    public IReadOnlyDictionary<string, string> Map(string key)
    {
        var section = Section(key);
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in section.Keys)
        {
            map[name] = section.OptionalText(name) ?? "";
        }
        MarkOpaque(key);
        return map;
    }

    /// <summary>One of <paramref name="choices"/> by name (case-insensitive), or <paramref name="fallback"/> when absent.</summary>
    public T Choice<T>(string key, T fallback, IReadOnlyDictionary<string, T> choices)
    {
        if (OptionalText(key) is not { } text)
        {
            return fallback;
        }
        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        throw Problem(key, $"= '{text}' is unknown: use {string.Join(" | ", choices.Keys)}");
    }

    /// <summary>Marks a key as known without reading it (a subtree another parser reads later).</summary>
    public void MarkOpaque(string key)
    {
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            _read.Add(key);
            _opaque.Add(key);
            return;
        }
        _read.Add(key[..dot]);
        if (_values.GetValueOrDefault(key[..dot]) is Settings inner)
        {
            inner.MarkOpaque(key[(dot + 1)..]);
        }
    }

    /// <summary>Refuses any key no parser read, naming it and the closest key that is known at its level.</summary>
    public void RequireAllKnown()
    {
        foreach (var (key, value) in _values)
        {
            if (!_read.Contains(key))
            {
                var closest = Closest(key, _read);
                var hint = closest is null ? $"known keys here: {string.Join(", ", _read.Order(StringComparer.Ordinal))}" : $"did you mean '{FullKey(closest)}'?";
                throw new EvolverException($"{Source}: unknown key '{FullKey(key)}' ({hint})");
            }
            if (value is Settings section && !_opaque.Contains(key))
            {
                section.RequireAllKnown();
            }
        }
    }

    /// <summary>A one-line error naming the source file and the full key.</summary>
    public EvolverException Problem(string key, string problem) => new($"{Source}: {FullKey(key)} {problem}");

    private object? Lookup(string key, bool markRead = true)
    {
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            if (markRead)
            {
                _read.Add(key);
            }
            return _values.GetValueOrDefault(key);
        }
        var head = key[..dot];
        if (markRead)
        {
            _read.Add(head);
        }
        return _values.GetValueOrDefault(head) switch
        {
            null => null,
            Settings inner => inner.Lookup(key[(dot + 1)..], markRead),
            _ => throw Problem(head, "must be a section { ... }"),
        };
    }

    private long InRange(string key, long value, long min, long max) =>
        value < min || value > max ? throw Problem(key, $"= {value} is out of range [{Show(min)}, {Show(max)}]") : value;

    private static string Show(double bound) => bound switch
    {
        double.NegativeInfinity => "-inf",
        double.PositiveInfinity => "inf",
        _ => bound.ToString(CultureInfo.InvariantCulture),
    };

    private static string Show(long bound) => bound switch
    {
        long.MinValue => "-inf",
        long.MaxValue => "inf",
        _ => bound.ToString(CultureInfo.InvariantCulture),
    };

    private static TimeSpan? ParseDuration(string text)
    {
        var trimmed = text.Trim().ToLowerInvariant();
        (string Suffix, double Seconds)[] units =
        [
            ("ms", 0.001), ("milliseconds", 0.001), ("seconds", 1), ("second", 1), ("s", 1), ("minutes", 60), ("minute", 60), ("m", 60),
            ("hours", 3600), ("hour", 3600), ("h", 3600), ("days", 86400), ("day", 86400), ("d", 86400),
        ];
        foreach (var (suffix, seconds) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(trimmed[..^suffix.Length].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var count)
                && double.IsFinite(count) && count * seconds < TimeSpan.MaxValue.TotalSeconds)
            {
                return TimeSpan.FromSeconds(count * seconds);
            }
        }
        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain) && double.IsFinite(plain)
            && plain < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(plain)
            : null;
    }

    /// <summary>The known key with the smallest edit distance, if it is close enough to be a likely typo.</summary>
    internal static string? Closest(string key, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = EditDistance(key, candidate);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }
        return best is not null && bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
