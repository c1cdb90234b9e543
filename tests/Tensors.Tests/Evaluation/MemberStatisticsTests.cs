using EvolverActors.Tensors;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Evaluation.FitnessTestData;
using static EvolverActors.Tests.Merging.MergeTestData;

namespace EvolverActors.Tests.Evaluation;

/// <summary>
/// A merged fitness whose membership changes (an admission, a retirement) merges each member with its own statistics,
/// looked up by ledger slot, not by position in the synced population (docs/architecture.md §6).
/// </summary>
public sealed class MemberStatisticsTests
{
    /// <summary>Statistics by ledger slot, as the run's source keeps them; counts what it was asked.</summary>
    private sealed class BySlot(IReadOnlyList<WeightSet> fishers, IReadOnlyList<WeightSet> grams) : IMemberStatistics
    {
        public List<IReadOnlyList<MemberKey>> Asked { get; } = [];

        public MergeInputs For(IReadOnlyList<MemberKey> members)
        {
            Asked.Add(members);
            return new MergeInputs { Fisher = [.. members.Select(m => fishers[m.Slot])], Grams = [.. members.Select(m => grams[m.Slot])] };
        }

        public void Dispose()
        {
        }
    }

    [Theory]
    [InlineData("average", false)]
    [InlineData("fisher", false)]
    [InlineData("regmean", false)]
    [InlineData("fisher", true)]
    [InlineData("regmean", true)]
    public void An_admission_and_a_retirement_merge_each_member_with_its_own_slots_statistics(string method, bool streaming)
    {
        var ledger = Members(4, firstSeed: 1, steps: 1); // slots 0..2 start, slot 3 is admitted later
        var child = Members(1, firstSeed: 90, steps: 2)[0]; // accepted into slot 2 in the same sync as the admission
        var fishers = RandomFishers(ledger, seed: 7);
        var grams = Grams(ledger);
        var source = new BySlot(fishers, grams);
        var slots = Enumerable.Range(0, ledger.Count).Select(s => ($"m{s}", ledger[s])).ToList();
        using var fitness = streaming
            ? (IPopulationFitness)new StreamingMergedFitness(new ResidentScorer(Evaluator(), Metric.Accuracy), method, null, source)
            : new MergedFitness(new ResidentScorer(Evaluator(), Metric.Accuracy), method, null, source);

        fitness.Sync(0, slots[..3]);
        AssertFused([0, 1, 2], [ledger[0], ledger[1], ledger[2]]);

        // Slot 3 admitted (and slot 2 replaced meanwhile): four members.
        MemberKey[] admitted = [new(0), new(1), new(2), new(3, "s-admitted")];
        fitness.Sync(2, [slots[0], slots[1], ("c", child), slots[3]], admitted);
        AssertFused([0, 1, 2, 3], [ledger[0], ledger[1], child, ledger[3]]);
        // Slot 1 retired: positions shift, statistics must not.
        MemberKey[] retired = [new(0), new(2), new(3, "s-admitted")];
        fitness.Sync(3, [slots[0], ("c", child), slots[3]], retired);
        AssertFused([0, 2, 3], [ledger[0], child, ledger[3]]);
        if (fitness is MergedFitness resident)
        {
            // average and fisher change members in place; regmean's S⁻¹ changes with every member, so it merges anew.
            Assert.Equal(method == "regmean" ? 3 : 1, resident.Rebuilds);
        }

        // Syncing the same membership again asks for nothing new.
        var asked = source.Asked.Count;
        fitness.Sync(4, [slots[0], ("c", child), slots[3]], retired);
        Assert.Equal(asked, source.Asked.Count);
        Assert.Equal(retired, source.Asked[^1]);

        // The first member leaving: excluded tensors follow the first member, so the merge is made anew.
        MemberKey[] firstGone = [new(2), new(3, "s-admitted")];
        fitness.Sync(5, [("c", child), slots[3]], firstGone);
        AssertFused([2, 3], [child, ledger[3]]);

        DisposeAll(ledger.Concat(fishers).Concat(grams).Append(child));

        void AssertFused(int[] keys, WeightSet[] weights)
        {
            using var fused = fitness.Fused();
            var inputs = new MergeInputs { Fisher = [.. keys.Select(s => fishers[s])], Grams = [.. keys.Select(s => grams[s])] };
            using var merged = MergeRegistry.Get(method).Merge(weights, inputs);
            AssertSetsClose(merged, fused);
        }
    }

    [Fact]
    public void Fixed_statistics_refuse_a_membership_other_than_the_starting_slots_in_one_line()
    {
        var members = Members(3, firstSeed: 1, steps: 1);
        var fishers = RandomFishers(members, seed: 7);
        using var fitness = new MergedFitness(new ResidentScorer(Evaluator(), Metric.Accuracy), "fisher", inputs: new MergeInputs { Fisher = fishers });
        fitness.Sync(0, Slots(members, "m"));

        var e = Assert.Throws<EvolverException>(() => fitness.Sync(1, [("m0", members[0]), ("m2", members[2])], [new(0), new(2)]));
        Assert.Equal("the merge statistics were given for the 3 starting members only; population now: slots 0, 2", e.Message);
        Assert.Throws<ArgumentException>(() => fitness.Sync(1, Slots(members, "m"), [new(0)]));
        DisposeAll(members.Concat(fishers));
    }
}
