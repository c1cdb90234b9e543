using System.Text.RegularExpressions;

namespace EvolverActors.Tensors.Operators;

/// <summary>Groups tensors into the units that tensor- and layer-granularity crossover decide on.</summary>
public static partial class CrossoverUnits
{
    /// <summary>The layer a parameter belongs to: the name up to its first numeric part ("encoder.layer.3"),
    /// else its first name part ("embeddings", "classifier").</summary>
    public static string LayerOf(string name)
    {
        var match = NumberedLayer().Match(name);
        if (match.Success)
        {
            return match.Groups[1].Value;
        }
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? name : name[..dot];
    }

    /// <summary>For each tensor position, the index of its unit; units are numbered in order of first appearance.</summary>
    public static int[] Assign(IReadOnlyList<string> names, Granularity granularity, out int unitCount)
    {
        var units = new int[names.Count];
        if (granularity != Granularity.Layer)
        {
            for (var i = 0; i < units.Length; i++)
            {
                units[i] = i;
            }
            unitCount = units.Length;
            return units;
        }
        var byLayer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < units.Length; i++)
        {
            var layer = LayerOf(names[i]);
            if (!byLayer.TryGetValue(layer, out var unit))
            {
                unit = byLayer.Count;
                byLayer.Add(layer, unit);
            }
            units[i] = unit;
        }
        unitCount = byLayer.Count;
        return units;
    }

    [GeneratedRegex(@"^(.*?\.\d+)(\.|$)", RegexOptions.CultureInvariant)]
    private static partial Regex NumberedLayer();
}
