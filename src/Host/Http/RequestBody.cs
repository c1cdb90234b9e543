using System.Text.Json.Nodes;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Http;

/// <summary>What every JSON body of the control API must be: an object with no key but the call's own.</summary>
internal static class RequestBody
{
    /// <summary>
    /// <paramref name="body"/> as an object, or one line: <paramref name="shape"/> when it is not one,
    /// "unknown <paramref name="keyWord"/> 'x' (known: …)" for a key not in <paramref name="keys"/>.
    /// </summary>
    public static JsonObject RequireObject(JsonNode? body, string shape, string keyWord, IReadOnlyCollection<string> keys)
    {
        if (body is not JsonObject json)
        {
            throw new EvolverException(shape);
        }
        if (json.Select(kv => kv.Key).FirstOrDefault(k => !keys.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            throw new EvolverException($"unknown {keyWord} '{unknown}' (known: {string.Join(", ", keys)})");
        }
        return json;
    }
}
