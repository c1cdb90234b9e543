using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Merging;

/// <summary>Tiny weight sets built on the fly (mergekit's tests/common.py style) and value checks.</summary>
internal static class MergeTestData
{
    /// <summary>A weight set of float32 tensors from (name, values, shape).</summary>
    public static WeightSet Set(params (string Name, float[] Values, long[] Shape)[] entries) =>
        WeightSet.Adopt([.. entries.Select(e => (e.Name, tensor(e.Values).reshape(e.Shape)))]);

    /// <summary>A weight set with one 1-D float32 tensor called "w".</summary>
    public static WeightSet Vector(params float[] values) => Set(("w", values, [values.Length]));

    /// <summary>A weight set with one [2, 2] float32 tensor called "linear.weight" (row-major values).</summary>
    public static WeightSet Matrix(params float[] values) => Set(("linear.weight", values, [2, 2]));

    public static float[] Values(Tensor t)
    {
        using var f = t.to(ScalarType.Float32).contiguous().cpu();
        return f.data<float>().ToArray();
    }

    public static void AssertClose(float[] expected, Tensor actual, double tolerance = 1e-5)
    {
        var values = Values(actual);
        Assert.Equal(expected.Length, values.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(
                Math.Abs(expected[i] - values[i]) <= tolerance,
                $"element {i}: expected {expected[i]}, got {values[i]} (all: [{string.Join(", ", values)}])");
        }
    }

    /// <summary>Every tensor of <paramref name="actual"/> equals the same-named one of <paramref name="expected"/> within the tolerance.</summary>
    public static void AssertSetsClose(WeightSet expected, WeightSet actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Names, actual.Names);
        foreach (var (name, t) in expected.Entries())
        {
            Assert.Equal(t.dtype, actual[name].dtype);
            var diff = (t.to(ScalarType.Float64) - actual[name].to(ScalarType.Float64)).abs().max().item<double>();
            Assert.True(diff <= tolerance, $"tensor '{name}' differs by {diff}");
        }
    }

    /// <summary>
    /// A random population of <paramref name="count"/> members with a linear layer, a bias, an
    /// embedding-like vector, an integer buffer and a classifier head.
    /// </summary>
    public static List<WeightSet> RandomPopulation(int count, Generator generator) =>
        [.. Enumerable.Range(0, count).Select(_ => RandomMember(generator))];

    public static WeightSet RandomMember(Generator generator) => WeightSet.Adopt(
    [
        ("linear.weight", randn([3, 4], generator: generator)),
        ("linear.bias", randn([3], generator: generator)),
        ("embed", randn([5], generator: generator)),
        ("position_ids", randint(0, 100, [3], dtype: ScalarType.Int64, generator: generator)),
        ("head.weight", randn([2], generator: generator)),
    ]);

    /// <summary>Positive Fisher diagonals for "linear.weight" and "embed" (the bias has none: it is averaged).</summary>
    public static List<WeightSet> RandomFishers(int count, Generator generator) =>
    [
        .. Enumerable.Range(0, count).Select(_ => WeightSet.Adopt(
        [
            ("linear.weight", rand([3, 4], generator: generator).add_(0.1)),
            ("embed", rand([5], generator: generator).add_(0.1)),
        ])),
    ];

    /// <summary>Well-conditioned Grams XᵀX + I [4, 4] for "linear.weight".</summary>
    public static List<WeightSet> RandomGrams(int count, Generator generator) =>
    [
        .. Enumerable.Range(0, count).Select(_ =>
        {
            using var scope = NewDisposeScope();
            var x = randn([8, 4], generator: generator);
            var gram = x.t().matmul(x).add_(eye(4));
            return WeightSet.Adopt([("linear.weight", gram.MoveToOuterDisposeScope())]);
        }),
    ];

    /// <summary>The same set in float16 (the float32 original is disposed).</summary>
    public static WeightSet ToHalf(WeightSet set)
    {
        var half = set.To(CPU, ScalarType.Float16);
        set.Dispose();
        return half;
    }

    public static void DisposeAll(IEnumerable<WeightSet> sets)
    {
        foreach (var set in sets)
        {
            set.Dispose();
        }
    }
}
