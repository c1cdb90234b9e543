using System.Globalization;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Reads a merge method's parameters from string key=values (the CLI's <c>--param lambda=0.7</c>).
/// Keys are case-insensitive and '_' equals '-'; a key the method does not know is an error that
/// lists the keys it does know. Values use the invariant culture.
/// </summary>
public sealed class MergeParameters
{
    private readonly string _method;
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    /// <param name="method">The method's stable name, for error messages.</param>
    /// <param name="values">Raw key=values, or null for all defaults.</param>
    /// <param name="known">The canonical keys this method accepts.</param>
    public MergeParameters(string method, IReadOnlyDictionary<string, string>? values, params string[] known)
    {
        _method = method;
        foreach (var (rawKey, value) in values ?? new Dictionary<string, string>())
        {
            var key = Normalize(rawKey);
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                var list = known.Length == 0 ? "it takes no parameters" : "its parameters are: " + string.Join(", ", known);
                throw new EvolverException($"merge method '{method}' has no parameter '{rawKey}'; {list}");
            }
            if (!_values.TryAdd(key, value.Trim()))
            {
                throw new EvolverException($"merge method '{method}': parameter '{key}' is given twice");
            }
        }
    }

    /// <summary>Splits <c>key=value</c> strings into a dictionary; a missing '=', an empty key or a repeated key is an error.</summary>
    public static IReadOnlyDictionary<string, string> ParseKeyValues(IEnumerable<string> pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new EvolverException($"merge parameter '{pair}' is not of the form key=value");
            }
            var key = Normalize(pair[..eq]);
            if (!result.TryAdd(key, pair[(eq + 1)..].Trim()))
            {
                throw new EvolverException($"merge parameter '{key}' is given twice");
            }
        }
        return result;
    }

    /// <summary>The value of <paramref name="key"/> as a double, or <paramref name="fallback"/> when absent.</summary>
    public double Double(string key, double fallback)
    {
        if (!_values.TryGetValue(key, out var text))
        {
            return fallback;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EvolverException($"merge method '{_method}': parameter '{key}' must be a number, got '{text}'");
    }

    /// <summary>The raw value of <paramref name="key"/>, or null when absent.</summary>
    public string? Text(string key) => _values.GetValueOrDefault(key);

    /// <summary>The value of <paramref name="key"/> as an unsigned 64-bit integer (seeds), or the fallback.</summary>
    public ulong UInt64(string key, ulong fallback)
    {
        if (!_values.TryGetValue(key, out var text))
        {
            return fallback;
        }
        return ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EvolverException($"merge method '{_method}': parameter '{key}' must be a non-negative integer, got '{text}'");
    }

    /// <summary>
    /// Throws a clear range error unless <paramref name="ok"/>; <paramref name="rule"/> says the allowed
    /// range as the message should, e.g. "in (0, 1]".
    /// </summary>
    public static void Require(string method, string key, double value, bool ok, string rule)
    {
        if (!ok)
        {
            throw new EvolverException(
                $"merge method '{method}': parameter '{key}' must be {rule}, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static string Normalize(string key) => key.Trim().ToLowerInvariant().Replace('_', '-');
}
