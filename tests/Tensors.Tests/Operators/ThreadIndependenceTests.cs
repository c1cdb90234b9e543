using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Operators;

/// <summary>
/// A recipe rebuilds the same bits whatever the thread count (torch's and the kernel's), for float32, float16 and
/// bfloat16, every crossover and granularity; and a half child is the float32 child of the widened sources, rounded.
/// </summary>
public sealed class ThreadIndependenceTests
{
    // One tensor above the kernel's 2^18-element chunk (odd size, so chunks and vector tails are ragged), small ones,
    // and two layers for layer granularity.
    private static readonly (string Name, long Size)[] Layout =
    [
        ("embeddings.word", 600_011),
        ("encoder.layer.0.weight", 4_099),
        ("encoder.layer.0.bias", 33),
        ("encoder.layer.1.weight", 70_001),
        ("classifier.weight", 17),
    ];

    private const ulong Seed = 0xC0FFEE;

    public static TheoryData<string, string, CrossoverKind, Granularity> Cases()
    {
        var data = new TheoryData<string, string, CrossoverKind, Granularity>();
        foreach (var dtype in new[] { "f32", "f16", "bf16" })
        {
            foreach (var op in new[] { "evolver", "de-current-to-best-1" })
            {
                foreach (var crossover in new[] { CrossoverKind.Binomial, CrossoverKind.Exponential })
                {
                    foreach (var granularity in new[] { Granularity.Element, Granularity.Tensor, Granularity.Layer })
                    {
                        data.Add(dtype, op, crossover, granularity);
                    }
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Children_are_bit_identical_with_one_or_several_threads(string dtype, string op, CrossoverKind crossover, Granularity granularity)
    {
        var population = Population(DTypes.ParseUserName(dtype));
        try
        {
            var mutation = OperatorRegistry.Get(op);
            var settings = new BreedingSettings
            {
                F = 0.37,
                // Exponential runs are 1/(1 − CR) units long on average: long enough to cross tensors and chunks.
                CR = crossover == CrossoverKind.Exponential ? (granularity == Granularity.Element ? 0.99999 : 0.6) : 0.45,
                Crossover = crossover,
                Granularity = granularity,
                GuaranteeJRand = crossover == CrossoverKind.Binomial,
            };
            var fitness = new[] { 0.2, 0.8, 0.5, 0.4, 0.6 };
            var recipe = OffspringRecipe.Draw(mutation, settings, 2, fitness, CounterRng.OffspringRandom(Seed, 17), 0.5);

            var single = BuildHash(recipe, mutation, population, torchThreads: 1, kernelThreads: 1);
            var several = BuildHash(recipe, mutation, population, torchThreads: 2, kernelThreads: -1);
            var odd = BuildHash(recipe, mutation, population, torchThreads: 3, kernelThreads: 3);
            Assert.Equal(single, several);
            Assert.Equal(single, odd);
            Assert.NotEqual(WeightSetHash.Sha256(population[recipe.Target]), single); // the child did change
        }
        finally
        {
            foreach (var member in population)
            {
                member.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("f16", CrossoverKind.Binomial, Granularity.Element)]
    [InlineData("bf16", CrossoverKind.Binomial, Granularity.Element)]
    [InlineData("f16", CrossoverKind.Exponential, Granularity.Element)]
    [InlineData("bf16", CrossoverKind.Binomial, Granularity.Layer)]
    public void Half_child_is_the_float32_child_of_the_widened_sources_rounded(string dtype, CrossoverKind crossover, Granularity granularity)
    {
        var type = DTypes.ParseUserName(dtype);
        var population = Population(type);
        var widened = population.Select(m => m.Map((_, t) => t.to_type(ScalarType.Float32))).ToArray();
        try
        {
            var mutation = new DeCurrentToBest1();
            var settings = new BreedingSettings
            {
                F = 0.8,
                CR = crossover == CrossoverKind.Exponential ? 0.99999 : 0.3,
                Crossover = crossover,
                Granularity = granularity,
                GuaranteeJRand = true,
            };
            var recipe = OffspringRecipe.Draw(mutation, settings, 0, [0.1, 0.2, 0.3, 0.4, 0.5], CounterRng.OffspringRandom(Seed, 3));
            using var half = Build(recipe, mutation, population);
            using var full = Build(recipe, mutation, widened);
            using var rounded = full.Map((_, t) => t.to_type(type));
            Assert.Equal(WeightSetHash.Sha256(rounded), WeightSetHash.Sha256(half));
        }
        finally
        {
            foreach (var member in population.Concat(widened))
            {
                member.Dispose();
            }
        }
    }

    [Fact]
    public void BFloat16_rounding_matches_torch()
    {
        var values = new[] { 1f, 1.00390625f, 1.0078125f, 1.01171875f, -3.3f, 1e-40f, float.MaxValue, float.PositiveInfinity, 0f, -0f, 65504.5f };
        using var expected = tensor(values).to_type(ScalarType.BFloat16);
        var bytes = expected.bytes.ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(BitConverter.ToUInt16(bytes, 2 * i), FusedCpuKernel.ToBFloat16(values[i]));
        }
    }

    [Fact]
    public void Content_hash_depends_on_bits_names_and_dtypes_not_on_order()
    {
        using var a = WeightSet.Adopt([("x", tensor(new[] { 1f, 2f })), ("y", tensor(new[] { 3f }))]);
        using var b = WeightSet.Adopt([("y", tensor(new[] { 3f })), ("x", tensor(new[] { 1f, 2f }))]);
        using var c = WeightSet.Adopt([("x", tensor(new[] { 1f, 2.0000002f })), ("y", tensor(new[] { 3f }))]);
        using var d = WeightSet.Adopt([("x", tensor(new[] { 1f, 2f }).to_type(ScalarType.Float16)), ("y", tensor(new[] { 3f }))]);
        using var e = WeightSet.Adopt([("x", tensor(new[] { 1f, 2f }).view(1, 2)), ("y", tensor(new[] { 3f }))]);
        Assert.Equal(WeightSetHash.Sha256(a), WeightSetHash.Sha256(b));
        Assert.Equal(64, WeightSetHash.Sha256(a).Length);
        Assert.Equal(5, new[] { a, c, d, e }.Select(WeightSetHash.Sha256).Append(WeightSetHash.Sha256(b) + "!").Distinct().Count());
    }

    private static WeightSet[] Population(ScalarType dtype) =>
        [.. Enumerable.Range(0, 5).Select(i =>
        {
            using var f32 = TinyWeights.Random(100 + i, Layout);
            return f32.Map((_, t) => t.to_type(dtype));
        })];

    private static WeightSet Build(OffspringRecipe recipe, MutationOperator op, IReadOnlyList<WeightSet> population)
    {
        var child = population[recipe.Target].EmptyLike();
        recipe.BuildInto(child, op, population);
        return child;
    }

    private static string BuildHash(OffspringRecipe recipe, MutationOperator op, IReadOnlyList<WeightSet> population, int torchThreads, int kernelThreads)
    {
        var threads = get_num_threads();
        var degree = FusedCpuKernel.MaxDegreeOfParallelism;
        try
        {
            set_num_threads(torchThreads);
            FusedCpuKernel.MaxDegreeOfParallelism = kernelThreads;
            using var child = Build(recipe, op, population);
            return WeightSetHash.Sha256(child);
        }
        finally
        {
            set_num_threads(threads);
            FusedCpuKernel.MaxDegreeOfParallelism = degree;
        }
    }
}
