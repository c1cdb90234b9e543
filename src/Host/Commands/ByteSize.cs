using System.Globalization;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Commands;

/// <summary>Sizes the way Hugging Face tools write them: "5GB" (10^9), "2GiB" (2^30), "500MB", or plain bytes.</summary>
internal static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KIB", 1L << 10), ("MIB", 1L << 20), ("GIB", 1L << 30), ("TIB", 1L << 40),
        ("KB", 1_000L), ("MB", 1_000_000L), ("GB", 1_000_000_000L), ("TB", 1_000_000_000_000L), ("B", 1L),
    ];

    public static long Parse(string text, string option)
    {
        var upper = text.Trim().ToUpperInvariant();
        var (suffix, factor) = Units.FirstOrDefault(u => upper.EndsWith(u.Suffix, StringComparison.Ordinal), (Suffix: "", Factor: 1L));
        var number = upper[..^suffix.Length].Trim();
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || !double.IsFinite(value))
        {
            throw new EvolverException($"{option} '{text}' is not a size: use e.g. 5GB, 500MB, 2GiB or a byte count");
        }
        return (long)Math.Min(long.MaxValue, value * factor);
    }

    /// <summary>A byte count for people: decimal units with one decimal, "0 B" to "1.2 TB".</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        var value = (double)bytes;
        var unit = 0;
        while (value >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:F1} {units[unit]}");
    }
}
