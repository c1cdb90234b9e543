using System.Text.RegularExpressions;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Merging.MergeTestData;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Merging;

/// <summary>Single-slot updates agree with full rebuilds, and nothing leaks.</summary>
public sealed class IncrementalMergeTests
{
    private static readonly Regex Head = new("^head\\.");

    [Theory]
    [InlineData("average")]
    [InlineData("fisher")]
    [InlineData("regmean")]
    [InlineData("linear")]
    public void Replacing_slots_one_at_a_time_matches_a_full_rebuild(string method)
    {
        using var generator = new Generator(11);
        var members = RandomPopulation(4, generator);
        var fishers = RandomFishers(4, generator);
        var grams = RandomGrams(4, generator);
        var inputs = new MergeInputs { Fisher = fishers, Grams = grams, Exclude = Head };
        var parameters = method switch
        {
            "regmean" => new Dictionary<string, string> { ["alpha"] = "0.7" },
            // Per-model weights everywhere but one layer, which has its own.
            "linear" => new Dictionary<string, string> { ["weights"] = "1:2:3:4", ["layer-weights"] = "linear@4:1:0.5:2" },
            _ => null,
        };
        var full = MergeRegistry.Get(method, parameters);
        var random = new Random(5);

        using (var incremental = IncrementalMerge.Create(method, members, inputs, parameters))
        {
            using (var initial = full.Merge(members, inputs))
            {
                AssertSetsClose(initial, incremental.Merged);
            }
            foreach (var slot in new[] { 2, 0, 3, 2, random.Next(4), 1, 0 })
            {
                var child = RandomMember(generator);
                incremental.Replace(slot, members[slot], child);
                members[slot].Dispose();
                members[slot] = child;

                using var rebuilt = full.Merge(members, inputs);
                AssertSetsClose(rebuilt, incremental.Merged);
            }
        }
        DisposeAll(members);
        DisposeAll(fishers);
        DisposeAll(grams);
    }

    [Theory]
    [InlineData("average")]
    [InlineData("fisher")]
    [InlineData("regmean")]
    [InlineData("linear")]
    public void Half_precision_members_are_updated_through_float32_accumulators(string method)
    {
        using var generator = new Generator(2);
        var members = RandomPopulation(3, generator).Select(ToHalf).ToList();
        var fishers = RandomFishers(3, generator).Select(ToHalf).ToList();
        var grams = RandomGrams(3, generator);
        var inputs = new MergeInputs { Fisher = fishers, Grams = grams };
        using var incremental = IncrementalMerge.Create(method, members, inputs);

        for (var round = 0; round < 5; round++)
        {
            var child = ToHalf(RandomMember(generator));
            incremental.Replace(round % 3, members[round % 3], child);
            members[round % 3].Dispose();
            members[round % 3] = child;
        }

        using var rebuilt = MergeRegistry.Get(method).Merge(members, inputs);
        Assert.Equal(ScalarType.Float16, incremental.Merged["linear.weight"].dtype);
        AssertSetsClose(rebuilt, incremental.Merged, 5e-3);
        DisposeAll(members);
        DisposeAll(fishers);
        DisposeAll(grams);
    }

    [Theory]
    [InlineData("ties")]
    [InlineData("dare")]
    [InlineData("task-arithmetic")]
    public void Methods_that_are_not_linear_have_no_incremental_update(string method)
    {
        using var a = Vector(1, 2);

        var error = Assert.Throws<EvolverException>(() => IncrementalMerge.Create(method, [a], new MergeInputs { Base = a }));

        Assert.Equal(
            $"merge method '{method}' has no incremental update (it is not linear in each member); methods with one: average, fisher, regmean, linear",
            error.Message);
    }

    [Fact]
    public void An_unknown_method_or_slot_fails_clearly()
    {
        using var a = Vector(1, 2);
        using var b = Vector(3, 4);

        var unknown = Assert.Throws<EvolverException>(() => IncrementalMerge.Create("mean", [a, b], MergeInputs.None));
        using var incremental = IncrementalMerge.Create("average", [a, b], MergeInputs.None);
        var slot = Assert.Throws<EvolverException>(() => incremental.Replace(2, a, b));

        Assert.StartsWith("unknown merge method 'mean'", unknown.Message, StringComparison.Ordinal);
        Assert.Equal("slot 2 is out of range: the population has 2 slots", slot.Message);
    }

    [Fact]
    public void Merging_and_updating_leave_no_live_tensors_behind()
    {
        var before = WeightSet.LiveTensors;
        using (var generator = new Generator(1))
        {
            var members = RandomPopulation(3, generator);
            var fishers = RandomFishers(3, generator);
            var grams = RandomGrams(3, generator);
            using var baseModel = RandomMember(generator);
            var inputs = new MergeInputs { Base = baseModel, Fisher = fishers, Grams = grams, Exclude = Head };
            foreach (var name in MergeRegistry.Names)
            {
                MergeRegistry.Get(name).Merge(members, inputs).Dispose();
            }
            foreach (var name in IncrementalMerge.SupportedMethods)
            {
                using var incremental = IncrementalMerge.Create(name, members, inputs);
                using var child = RandomMember(generator);
                incremental.Replace(1, members[1], child);
                incremental.Replace(1, child, members[1]);
            }
            using (var destination = members[0].Clone())
            {
                AverageMerge.RebuildInto(destination, members);
            }
            DisposeAll(members);
            DisposeAll(fishers);
            DisposeAll(grams);
        }

        Assert.Equal(before, WeightSet.LiveTensors);
    }
}
