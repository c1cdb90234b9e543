using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Operators.TinyWeights;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Operators;

/// <summary>Crossover statistics, j_rand, exponential runs, granularity and determinism.</summary>
public sealed class CrossoverTests
{
    // Target all zeros, reference all ones, F = 1: each child element is 1 exactly where it took the mutant.
    private static (WeightSet Target, WeightSet Reference) ZerosAndOnes(params (string Name, long Size)[] tensors) =>
        (WeightSet.Adopt(tensors.Select(t => (t.Name, zeros(t.Size)))), WeightSet.Adopt(tensors.Select(t => (t.Name, ones(t.Size)))));

    private static double MutantFraction(WeightSet child) =>
        child.Entries().Sum(e => e.Tensor.sum().item<float>()) / child.ParameterCount;

    [Theory]
    [InlineData(KernelPath.Auto, 0.3)]
    [InlineData(KernelPath.Torch, 0.3)]
    [InlineData(KernelPath.Auto, 0.5)]
    [InlineData(KernelPath.Torch, 0.5)]
    [InlineData(KernelPath.Auto, 0.9)]
    public void Binomial_takes_the_mutant_at_the_crossover_rate(KernelPath path, double cr)
    {
        var (target, reference) = ZerosAndOnes(("a", 1_000_003), ("b", 500_000));
        using (target)
        using (reference)
        using (var child = OffspringBuilder.Build(new EvolverOperator(), new BreedingSettings { F = 1, CR = cr }, 42, target, [reference], path: path))
        {
            // 1.5 M Bernoulli draws: the standard deviation of the fraction is below 0.0005.
            Assert.InRange(MutantFraction(child), cr - 0.003, cr + 0.003);
        }
    }

    [Fact]
    public void Fused_kernel_matches_the_counter_rng_specification_bit_for_bit()
    {
        using var target = Random(1, ("w", 2_000_001));
        using var reference = Random(2, ("w", 2_000_001));
        const ulong Seed = 12345;
        using var child = OffspringBuilder.Build(new EvolverOperator(), new BreedingSettings { F = 0.3, CR = 0.4 }, Seed, target, [reference]);
        var key = CounterRng.StreamKey(Seed, 0);
        var threshold = CounterRng.Threshold(0.4);
        var x = Values(target);
        var r = Values(reference);
        var c = Values(child);
        for (var j = 0; j < x.Length; j++)
        {
            var take = (int)(CounterRng.Hash(key, (uint)j) >> 8) < threshold;
            var expected = take ? MathF.FusedMultiplyAdd(r[j], 0.3f, x[j] * 0.7f) : x[j];
            if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(c[j]))
            {
                Assert.Fail($"element {j}: kernel gave {c[j]}, specification {expected}");
            }
        }
    }

    [Theory]
    [InlineData(KernelPath.Auto)]
    [InlineData(KernelPath.Torch)]
    public void Same_seed_gives_identical_children_and_another_seed_differs(KernelPath path)
    {
        using var target = Random(1, ("a", 300_000), ("b", 7));
        using var reference = Random(2, ("a", 300_000), ("b", 7));
        var settings = new BreedingSettings { CR = 0.5 };
        using var first = OffspringBuilder.Build(new EvolverOperator(), settings, 99, target, [reference], path: path);
        using var second = OffspringBuilder.Build(new EvolverOperator(), settings, 99, target, [reference], path: path);
        using var other = OffspringBuilder.Build(new EvolverOperator(), settings, 100, target, [reference], path: path);
        Assert.Equal(Values(first, "a"), Values(second, "a"));
        Assert.Equal(Values(first, "b"), Values(second, "b"));
        Assert.NotEqual(Values(first, "a"), Values(other, "a"));
    }

    [Fact]
    public void J_rand_forces_exactly_one_mutant_element_when_CR_is_zero()
    {
        var (target, reference) = ZerosAndOnes(("a", 1000), ("b", 24));
        using (target)
        using (reference)
        {
            var settings = new BreedingSettings { F = 1, CR = 0, GuaranteeJRand = true };
            var hitTensorB = false;
            for (ulong seed = 0; seed < 200; seed++)
            {
                using var child = OffspringBuilder.Build(new EvolverOperator(), settings, seed, target, [reference]);
                Assert.Equal(1.0, MutantFraction(child) * child.ParameterCount, 6);
                hitTensorB |= child["b"].sum().item<float>() > 0;
            }
            Assert.True(hitTensorB, "j_rand never fell in the second tensor in 200 seeds");
        }
    }

    [Fact]
    public void J_rand_at_tensor_granularity_forces_one_whole_tensor()
    {
        var (target, reference) = ZerosAndOnes(("a", 10), ("b", 20), ("c", 30));
        using (target)
        using (reference)
        {
            var settings = new BreedingSettings { F = 1, CR = 0, GuaranteeJRand = true, Granularity = Granularity.Tensor };
            for (ulong seed = 0; seed < 50; seed++)
            {
                using var child = OffspringBuilder.Build(new EvolverOperator(), settings, seed, target, [reference]);
                var whole = child.Entries().Count(e => e.Tensor.sum().item<float>() == e.Tensor.numel());
                var none = child.Entries().Count(e => e.Tensor.sum().item<float>() == 0);
                Assert.Equal((1, 2), (whole, none));
            }
        }
    }

    [Fact]
    public void Tensor_granularity_decides_whole_tensors_at_the_crossover_rate()
    {
        var tensors = Enumerable.Range(0, 400).Select(i => ($"t{i}", 5L)).ToArray();
        var (target, reference) = ZerosAndOnes(tensors);
        using (target)
        using (reference)
        using (var child = OffspringBuilder.Build(new EvolverOperator(), new BreedingSettings { F = 1, CR = 0.5, Granularity = Granularity.Tensor }, 5, target, [reference]))
        {
            foreach (var (_, t) in child.Entries())
            {
                Assert.Contains(t.sum().item<float>(), new[] { 0f, 5f });
            }
            Assert.InRange(MutantFraction(child), 0.4, 0.6);
        }
    }

    [Fact]
    public void Layer_granularity_moves_all_tensors_of_a_layer_together()
    {
        var tensors = Enumerable.Range(0, 100).SelectMany(l => new[] { ($"encoder.layer.{l}.q.weight", 3L), ($"encoder.layer.{l}.q.bias", 2L) }).ToArray();
        var (target, reference) = ZerosAndOnes(tensors);
        using (target)
        using (reference)
        using (var child = OffspringBuilder.Build(new EvolverOperator(), new BreedingSettings { F = 1, CR = 0.5, Granularity = Granularity.Layer }, 8, target, [reference]))
        {
            for (var l = 0; l < 100; l++)
            {
                var weight = child[$"encoder.layer.{l}.q.weight"].sum().item<float>() / 3;
                var bias = child[$"encoder.layer.{l}.q.bias"].sum().item<float>() / 2;
                Assert.Equal(weight, bias);
            }
            Assert.InRange(MutantFraction(child), 0.35, 0.65);
        }
    }

    [Fact]
    public void Layer_names_group_by_their_first_numbered_part()
    {
        Assert.Equal("encoder.layer.3", CrossoverUnits.LayerOf("encoder.layer.3.attention.self.query.weight"));
        Assert.Equal("model.layers.12", CrossoverUnits.LayerOf("model.layers.12.mlp.up_proj.weight"));
        Assert.Equal("embeddings", CrossoverUnits.LayerOf("embeddings.word_embeddings.weight"));
        Assert.Equal("classifier", CrossoverUnits.LayerOf("classifier"));
    }

    [Fact]
    public void Exponential_crossover_copies_one_contiguous_run_of_geometric_length()
    {
        var (target, reference) = ZerosAndOnes(("a", 64), ("b", 64));
        using (target)
        using (reference)
        {
            var settings = new BreedingSettings { F = 1, CR = 0.5, Crossover = CrossoverKind.Exponential };
            var lengths = new List<int>();
            for (ulong seed = 0; seed < 2000; seed++)
            {
                using var child = OffspringBuilder.Build(new EvolverOperator(), settings, seed, target, [reference]);
                var mask = child["a"].data<float>().Concat(child["b"].data<float>()).Select(v => v == 1).ToArray();
                var length = mask.Count(m => m);
                // Contiguous with wrap-around: exactly one 0→1 edge around the ring.
                var rises = Enumerable.Range(0, mask.Length).Count(i => mask[i] && !mask[(i + mask.Length - 1) % mask.Length]);
                Assert.True(length >= 1 && (rises == 1 || length == mask.Length), $"seed {seed}: {length} mutant elements in {rises} runs");
                lengths.Add(length);
            }
            // L = 1 + Geometric(CR): mean 1 / (1 − CR) = 2.
            Assert.InRange(lengths.Average(), 1.9, 2.1);
        }
    }

    [Fact]
    public void Building_offspring_leaks_no_tensors()
    {
        using var target = Random(1, ("a", 1000), ("b", 10));
        using var reference = Random(2, ("a", 1000), ("b", 10));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var liveSets = WeightSet.LiveTensors;
        var liveTorch = Tensor.TotalCount;
        foreach (var crossover in new[] { CrossoverKind.Binomial, CrossoverKind.Exponential })
        {
            foreach (var path in new[] { KernelPath.Auto, KernelPath.Torch })
            {
                var settings = new BreedingSettings { Crossover = crossover, GuaranteeJRand = true };
                using var child = OffspringBuilder.Build(new EvolverOperator(), settings, 3, target, [reference], path: path);
            }
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(liveSets, WeightSet.LiveTensors);
        Assert.Equal(liveTorch, Tensor.TotalCount);
    }
}
