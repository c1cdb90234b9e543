using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>One tensor's name, shape and dtype: what members of a population must agree on.</summary>
public sealed record TensorSpec(string Name, long[] Shape, ScalarType DType)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>The ordered tensor specs of a weight set or checkpoint.</summary>
public sealed class WeightLayout(IReadOnlyList<TensorSpec> specs)
{
    public IReadOnlyList<TensorSpec> Specs { get; } = specs;

    public static WeightLayout Of(WeightSet set) =>
        new([.. set.Entries().Select(e => new TensorSpec(e.Name, e.Tensor.shape, e.Tensor.dtype))]);

    public long ParameterCount => Specs.Sum(s => s.Elements);

    /// <summary>Describes the first difference between two layouts, or null when they match.</summary>
    public static string? FirstMismatch(WeightLayout a, string labelA, WeightLayout b, string labelB)
    {
        var byName = b.Specs.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var spec in a.Specs)
        {
            if (!byName.TryGetValue(spec.Name, out var other))
            {
                return $"tensor '{spec.Name}' is in {labelA} but not in {labelB}";
            }
            if (!spec.Shape.SequenceEqual(other.Shape))
            {
                return $"tensor '{spec.Name}' has shape {spec.ShapeText} in {labelA} but {other.ShapeText} in {labelB}";
            }
            if (spec.DType != other.DType)
            {
                return $"tensor '{spec.Name}' has dtype {DTypes.ToCode(spec.DType)} in {labelA} but {DTypes.ToCode(other.DType)} in {labelB}";
            }
        }
        var namesA = a.Specs.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var extra = b.Specs.FirstOrDefault(s => !namesA.Contains(s.Name));
        return extra is null ? null : $"tensor '{extra.Name}' is in {labelB} but not in {labelA}";
    }

    public static void RequireSame(WeightLayout a, string labelA, WeightLayout b, string labelB)
    {
        if (FirstMismatch(a, labelA, b, labelB) is { } problem)
        {
            throw new PopulationMismatchException($"population mismatch: {problem}");
        }
    }

    /// <summary>Checks that every member has the first member's layout; reports the first mismatch.</summary>
    public static void RequireSame(IReadOnlyList<(string Label, WeightLayout Layout)> members)
    {
        for (var i = 1; i < members.Count; i++)
        {
            RequireSame(members[0].Layout, members[0].Label, members[i].Layout, members[i].Label);
        }
    }
}
