using System.Text.RegularExpressions;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Merging.MergeTestData;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Merging;

/// <summary>A preview equals replacing and reading Merged, and leaves the instance untouched.</summary>
public sealed class IncrementalPreviewTests
{
    private static readonly Regex Head = new("^head\\.");

    [Theory]
    [InlineData("average", 0)]
    [InlineData("average", 2)]
    [InlineData("fisher", 0)]
    [InlineData("fisher", 1)]
    [InlineData("regmean", 0)]
    [InlineData("regmean", 3)]
    public void Preview_equals_replace_and_changes_nothing(string method, int slot)
    {
        using var generator = new Generator(21);
        var members = RandomPopulation(4, generator);
        var fishers = RandomFishers(4, generator);
        var grams = RandomGrams(4, generator);
        var inputs = new MergeInputs { Fisher = fishers, Grams = grams, Exclude = Head };
        using var previewed = IncrementalMerge.Create(method, members, inputs);
        using var replaced = IncrementalMerge.Create(method, members, inputs);
        using var child = RandomMember(generator);
        using var before = previewed.Merged.Clone();
        using var destination = previewed.Merged.EmptyLike();

        previewed.Preview(slot, members[slot], child, destination);
        replaced.Replace(slot, members[slot], child);

        AssertSetsClose(replaced.Merged, destination);
        AssertBitIdentical(before, previewed.Merged);
        // The pass-through tensors follow slot 0.
        var source = slot == 0 ? child : members[0];
        Assert.True(Same(source["head.weight"], destination["head.weight"]));
        Assert.True(Same(source["position_ids"], destination["position_ids"]));

        // The state is intact: a second preview and a real replace still agree with a full rebuild.
        using var again = destination.EmptyLike();
        previewed.Preview(slot, members[slot], child, again);
        AssertBitIdentical(destination, again);
        previewed.Replace(slot, members[slot], child);
        AssertSetsClose(replaced.Merged, previewed.Merged);
        DisposeAll(members);
        DisposeAll(fishers);
        DisposeAll(grams);
    }

    [Theory]
    [InlineData("average")]
    [InlineData("fisher")]
    [InlineData("regmean")]
    [InlineData("linear")]
    public void A_tensor_the_child_shares_with_its_slot_keeps_its_merged_value_bit_for_bit(string method)
    {
        // A frozen layer: the child keeps the slot's tensor, so the merge of it must not move by a rounding.
        using var generator = new Generator(5);
        var members = RandomPopulation(4, generator);
        var inputs = new MergeInputs { Fisher = RandomFishers(4, generator), Grams = RandomGrams(4, generator), Exclude = Head };
        using var incremental = IncrementalMerge.Create(method, members, inputs);
        using var child = RandomMember(generator);
        var shared = child.Names.First(n => !Head.IsMatch(n) && DTypes.IsFloating(child[n].dtype));
        child[shared].copy_(members[1][shared]);
        using var before = incremental.Merged.Clone();
        using var destination = incremental.Merged.EmptyLike();

        incremental.Preview(1, members[1], child, destination);
        Assert.True(Same(before[shared], destination[shared]));
        incremental.Replace(1, members[1], child);
        Assert.True(Same(before[shared], incremental.Merged[shared]));
        var moved = child.Names.Last(n => n != shared && !Head.IsMatch(n) && DTypes.IsFloating(child[n].dtype));
        Assert.False(Same(before[moved], incremental.Merged[moved]));
        DisposeAll(members);
        DisposeAll(inputs.Fisher!);
        DisposeAll(inputs.Grams!);
    }

    [Theory]
    [InlineData("average")]
    [InlineData("fisher")]
    [InlineData("regmean")]
    public void Preview_of_half_precision_members_matches_a_full_rebuild(string method)
    {
        using var generator = new Generator(4);
        var members = RandomPopulation(3, generator).Select(ToHalf).ToList();
        var fishers = RandomFishers(3, generator).Select(ToHalf).ToList();
        var grams = RandomGrams(3, generator);
        var inputs = new MergeInputs { Fisher = fishers, Grams = grams };
        using var incremental = IncrementalMerge.Create(method, members, inputs);
        using var child = ToHalf(RandomMember(generator));
        using var destination = incremental.Merged.EmptyLike();
        using var before = incremental.Merged.Clone();

        incremental.Preview(1, members[1], child, destination);

        var population = new List<WeightSet>(members) { [1] = child };
        using var rebuilt = MergeRegistry.Get(method).Merge(population, inputs);
        AssertSetsClose(rebuilt, destination, 5e-3);
        AssertBitIdentical(before, incremental.Merged);
        DisposeAll(members);
        DisposeAll(fishers);
        DisposeAll(grams);
    }

    [Fact]
    public void Preview_checks_its_slot_and_destination()
    {
        using var a = Vector(1, 2);
        using var b = Vector(3, 4);
        using var wrong = Vector(1, 2, 3);
        using var incremental = IncrementalMerge.Create("average", [a, b], MergeInputs.None);
        using var destination = incremental.Merged.EmptyLike();

        var slot = Assert.Throws<EvolverException>(() => incremental.Preview(2, a, b, destination));
        Assert.Throws<PopulationMismatchException>(() => incremental.Preview(0, a, b, wrong));
        var self = Assert.Throws<EvolverException>(() => incremental.Preview(0, a, b, incremental.Merged));

        Assert.Equal("slot 2 is out of range: the population has 2 slots", slot.Message);
        Assert.StartsWith("a preview cannot be written into the merged model", self.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Previews_leave_no_live_tensors_behind()
    {
        var before = WeightSet.LiveTensors;
        using (var generator = new Generator(8))
        {
            var members = RandomPopulation(3, generator);
            var fishers = RandomFishers(3, generator);
            var grams = RandomGrams(3, generator);
            var inputs = new MergeInputs { Fisher = fishers, Grams = grams, Exclude = Head };
            foreach (var name in IncrementalMerge.SupportedMethods)
            {
                using var incremental = IncrementalMerge.Create(name, members, inputs);
                using var child = RandomMember(generator);
                using var destination = incremental.Merged.EmptyLike();
                incremental.Preview(0, members[0], child, destination);
                incremental.Preview(2, members[2], child, destination);
            }
            DisposeAll(members);
            DisposeAll(fishers);
            DisposeAll(grams);
        }

        Assert.Equal(before, WeightSet.LiveTensors);
    }

    private static void AssertBitIdentical(WeightSet expected, WeightSet actual)
    {
        Assert.Equal(expected.Names, actual.Names);
        foreach (var (name, t) in expected.Entries())
        {
            Assert.True(Same(t, actual[name]), $"tensor '{name}' changed");
        }
    }

    /// <summary>Bit-identical: same shape, dtype and every element equal.</summary>
    internal static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }
}
