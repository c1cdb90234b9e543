using System.Globalization;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Host.Commands;

/// <summary>Sizes on the command line (parsed by <see cref="ByteSizes"/>) and for people.</summary>
internal static class ByteSize
{
    public static long Parse(string text, string option) =>
        ByteSizes.TryParse(text) ?? throw new EvolverException($"{option} '{text}' is not a size: use e.g. 5GB, 500MB, 2GiB or a byte count");

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
