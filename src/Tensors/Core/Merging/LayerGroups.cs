namespace EvolverActors.Tensors.Merging;

/// <summary>
/// The layer a tensor belongs to, for merges with per-layer coefficients: its name up to the first numeric component
/// (<c>encoder.layer.3.attention.self.query.weight</c> → <c>encoder.layer.3</c>, as mergekit counts layers), else its
/// module (the name without its last component: <c>fc1.weight</c> → <c>fc1</c>), else the name itself.
/// </summary>
public static class LayerGroups
{
    public static string KeyOf(string tensorName)
    {
        ArgumentNullException.ThrowIfNull(tensorName);
        var parts = tensorName.Split('.');
        var numeric = Array.FindIndex(parts, p => p.Length > 0 && p.All(char.IsAsciiDigit));
        if (numeric >= 0)
        {
            return string.Join('.', parts[..(numeric + 1)]);
        }
        return parts.Length > 1 ? string.Join('.', parts[..^1]) : tensorName;
    }

    /// <summary>The distinct layer keys of <paramref name="tensorNames"/>, in first-seen order.</summary>
    public static IReadOnlyList<string> Of(IEnumerable<string> tensorNames) => [.. tensorNames.Select(KeyOf).Distinct(StringComparer.Ordinal)];
}
