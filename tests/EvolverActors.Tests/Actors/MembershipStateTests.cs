using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Tensors.Operators;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>Admission and retirement as pure state and pure recipe drawing (docs/architecture.md §6, "Admission and retirement").</summary>
public sealed class MembershipStateTests
{
    private static readonly DateTime At = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);

    private static StewardState Initialized(double? s = null)
    {
        var state = new StewardState();
        state.Apply(new RunInitialized(["m-0", "m-1", "m-2", "m-3"], [0.1, 0.2, 0.3, 0.4], s, 4, At));
        return state;
    }

    private static OffspringInfo Offspring(int target) =>
        new("o-1", new Recipe(Recipe.CurrentFormat, 0, target, $"m-{target}", [1], ["m-1"], "evolver", 0.5, 0.5, "binomial", false, "element", null, "raw", 7),
            new LedgerView(0, ["m-0", "m-1", "m-2", "m-3"], [0, 0, 0, 0], null, false));

    [Fact]
    public void An_admitted_member_is_a_new_slot_at_a_new_version_and_the_newest_view_shows_it()
    {
        var state = Initialized();
        state.Apply(new MemberAdmitted(4, "a-new", "fresh", "/models/fresh", "hash", 0.9, null, 1, At));
        Assert.Equal(["m-0", "m-1", "m-2", "m-3", "a-new"], state.SlotWeights);
        Assert.Equal(0.9, state.SlotScores[4]);
        Assert.Equal((1L, 5, 1L), (state.Version, state.ActiveCount, state.Admitted));
        Assert.Equal(0.9, state.BestDev(FitnessMode.Individual));
        Assert.Equal(0, state.Evaluations - 4); // an admission is not an evaluation of the budget
        Assert.Equal(["m-0", "m-1", "m-2", "m-3", "a-new"], state.Views[^1].SlotWeights);
        Assert.Single(state.Views); // the population after 0 decisions is the new one (breeders draw from it next)
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Individual, Offspring(4), 0.95, 1, 0).Verdict);
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Individual, Offspring(4), 0.85, 1, 0).Verdict);
    }

    [Fact]
    public void A_retired_slot_keeps_its_index_leaves_the_best_score_and_offspring_aimed_at_it_are_rejected()
    {
        var state = Initialized();
        state.Apply(new MemberRetired(3, "m-3", "drifted", null, 1, At));
        Assert.Equal(4, state.SlotWeights.Length);
        Assert.Equal([3], state.RetiredSlots);
        Assert.Equal(3, state.ActiveCount);
        Assert.Equal(0.3, state.BestDev(FitnessMode.Individual)); // slot 3's 0.4 no longer counts
        var decision = state.Decide(FitnessMode.Individual, Offspring(3), 0.99, 1, 0);
        Assert.Equal((Verdict.Reject, "slot 3 was retired"), (decision.Verdict, decision.Reason));
        Assert.Equal([0, 1, 2], state.View().ActiveSlots());
        Assert.True(state.View().IsRetired(3));
    }

    [Fact]
    public void An_admitted_members_statistics_follow_its_ledger_slot_through_a_retirement_and_every_snapshot_keeps_them()
    {
        var state = Initialized(s: 0.5);
        state.Apply(new MemberAdmitted(4, "a-new", "fresh", "/models/fresh", "hash", 0.6, 0.6, 1, At, Statistics: "s-stats"));
        state.Apply(new MemberRetired(1, "m-1", "drifted", 0.55, 2, At));

        var view = state.View();
        Assert.Equal("-,-,-,-,s-stats", string.Join(",", view.Statistics!.Select(s => s ?? "-")));
        Assert.Equal(
            [new(0), new(2), new(3), new(4, "s-stats")],
            view.MemberKeys());
        Assert.Contains("s-stats", state.PinnedIds());
        Assert.Equal("s-stats", state.Copy().AdmittedStatistics[4]);

        // The journal's history gives the same population at each version (replay, export).
        var report = new LedgerReport(state, [new RunInitialized(["m-0", "m-1", "m-2", "m-3"], [0.1, 0.2, 0.3, 0.4], 0.5, 4, At)], [], 7, [],
            [new MemberAdmitted(4, "a-new", "fresh", "/models/fresh", "hash", 0.6, 0.6, 1, At, Statistics: "s-stats"), new MemberRetired(1, "m-1", "drifted", 0.55, 2, At)]);
        Assert.Equal(view.MemberKeys(), report.PopulationAt(2).MemberKeys());
        Assert.Equal([new(0), new(1), new(2), new(3), new(4, "s-stats")], report.PopulationAt(1).MemberKeys());
        Assert.Equal(["m-0", "m-1", "m-2", "m-3"], report.PopulationAt(0).SlotWeights);
    }

    [Fact]
    public void In_merged_mode_both_changes_set_S_and_a_copy_keeps_them()
    {
        var state = Initialized(s: 0.5);
        state.Apply(new MemberAdmitted(4, "a-new", "fresh", "/models/fresh", "hash", 0.55, 0.55, 1, At));
        state.Apply(new MemberRetired(0, "m-0", "drifted", 0.57, 2, At));
        Assert.Equal(0.57, state.BestDev(FitnessMode.Merged));
        var copy = state.Copy();
        Assert.Equal([0], copy.RetiredSlots);
        Assert.Equal((1L, 2L), (copy.Admitted, copy.Version));
    }

    [Fact]
    public void Recipes_never_target_or_draw_a_retired_slot_and_are_unchanged_when_none_is_retired()
    {
        var settings = new RunSettings { Task = "t", MaxEvaluations = 10_000, Seed = 3 };
        var op = OperatorRegistry.Get("evolver", new Dictionary<string, string>());
        var all = new LedgerView(1, ["m-0", "m-1", "m-2", "m-3", "m-4"], [0.1, 0.9, 0.3, 0.4, 0.5], null, false);
        var retired = all with { Retired = [1, 3] };
        var targets = new HashSet<int>();
        for (var n = 0L; n < 300; n++)
        {
            var recipe = RecipeDrawer.Draw(settings, op, n, retired);
            Assert.DoesNotContain(recipe.Target, (int[])[1, 3]);
            Assert.DoesNotContain(recipe.Parents, p => p is 1 or 3);
            Assert.DoesNotContain(recipe.ParentWeights, w => w is "m-1" or "m-3");
            targets.Add(recipe.Target);
            // With no slot retired, the same draws as a view that never had the field.
            Assert.Equal(RecipeDrawer.Draw(settings, op, n, all with { Retired = [] }).ComputeId(), RecipeDrawer.Draw(settings, op, n, all).ComputeId());
        }
        Assert.Equal([0, 2, 4], targets.Order());
    }
}
