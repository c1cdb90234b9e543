using System.Globalization;

namespace EvolverActors.Tensors.Configuration;

/// <summary>Sizes the way Hugging Face tools write them: "5GB" (10^9), "2GiB" (2^30), "500MB", or plain bytes.</summary>
public static class ByteSizes
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KIB", 1L << 10), ("MIB", 1L << 20), ("GIB", 1L << 30), ("TIB", 1L << 40),
        ("KB", 1_000L), ("MB", 1_000_000L), ("GB", 1_000_000_000L), ("TB", 1_000_000_000_000L), ("B", 1L),
    ];

    /// <summary>The byte count <paramref name="text"/> names (positive, finite), or null when it is not a size.</summary>
    public static long? TryParse(string text)
    {
        var upper = text.Trim().ToUpperInvariant();
        var (suffix, factor) = Units.FirstOrDefault(u => upper.EndsWith(u.Suffix, StringComparison.Ordinal), (Suffix: "", Factor: 1L));
        return double.TryParse(upper[..^suffix.Length].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && double.IsFinite(value)
            ? (long)Math.Min(long.MaxValue, value * factor)
            : null;
    }
}
