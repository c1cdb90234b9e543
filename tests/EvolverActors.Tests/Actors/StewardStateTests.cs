using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>The acceptance rule and budgets, as pure state (docs/architecture.md §1–2).</summary>
public sealed class StewardStateTests
{
    private static readonly RunSettings Settings = new() { Task = "t", MaxEvaluations = 100 };

    private static StewardState Initialized(double? s = 0.5, params double[] scores)
    {
        var state = new StewardState();
        var slots = scores.Length == 0 ? [0.1, 0.2, 0.3] : scores;
        state.Apply(new RunInitialized([.. slots.Select((_, i) => $"init-{i}")], slots, s, 1, DateTime.UtcNow));
        return state;
    }

    private static OffspringInfo Offspring(int target) =>
        new("o-1", new Recipe(Recipe.CurrentFormat, 0, target, $"init-{target}", [1], ["init-1"], "evolver", 0.5, 0.5, "binomial", false, "element", null, "raw", 7),
            new LedgerView(0, ["init-0", "init-1", "init-2"], [0, 0, 0], null, false));

    private static OffspringAccepted Accepted(long version, int slot, double score, long evaluation) =>
        new(version, slot, $"o-{version}", $"init-{slot}", [1], ["init-1"], "evolver", 0.5, 0.5, "binomial", false, "element", 7, score, 0, evaluation, "e0", DateTime.UtcNow);

    [Fact]
    public void Merged_mode_accepts_only_what_beats_S_at_the_current_version()
    {
        var state = Initialized(s: 0.5);
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Merged, Offspring(0), 0.51, 0, 0).Verdict);
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Merged, Offspring(0), 0.50, 0, 0).Verdict);
    }

    [Fact]
    public void Merged_mode_never_accepts_on_a_stale_comparison()
    {
        var state = Initialized(s: 0.5);
        state.Apply(Accepted(1, 2, 0.6, 5)); // S is now 0.6 at version 1
        // Scored against version 0: better than the current S → re-score, never accept directly.
        Assert.Equal(Verdict.Rescore, state.Decide(FitnessMode.Merged, Offspring(0), 0.65, 0, 0).Verdict);
        // Stale and not better than the current S → reject without re-scoring.
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Merged, Offspring(0), 0.55, 0, 0).Verdict);
        // Stale again after the allowed re-scores → reject.
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Merged, Offspring(0), 0.65, 0, StewardState.MaxRescores).Verdict);
        // Re-scored against the current version: an ordinary decision.
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Merged, Offspring(0), 0.65, 1, 1).Verdict);
    }

    [Fact]
    public void Individual_mode_compares_with_the_targets_score_at_decision_time()
    {
        var state = Initialized(s: null, 0.1, 0.2, 0.3);
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Individual, Offspring(1), 0.25, 0, 0).Verdict);
        state.Apply(Accepted(1, 1, 0.4, 3));
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Individual, Offspring(1), 0.25, 0, 0).Verdict);
        Assert.Equal(0.4, state.BestDev(FitnessMode.Individual));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Non_finite_scores_are_rejected(double score)
    {
        var decision = Initialized().Decide(FitnessMode.Merged, Offspring(0), score, 0, 0);
        Assert.Equal(Verdict.Reject, decision.Verdict);
        Assert.Contains("not finite", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepted_and_rejected_events_keep_the_ledger_and_counters()
    {
        var state = Initialized(s: 0.5);
        state.Apply(new OffspringRejected(2, "evolver", 0.4, 0, "worse", 2));
        state.Apply(Accepted(1, 0, 0.7, 3));
        Assert.Equal(("o-1", 1L, 0.7, 3L), (state.SlotWeights[0], state.Version, state.PopulationScore!.Value, state.Evaluations));
        Assert.Equal((1L, 1L), (state.Accepted, state.Rejected));
        Assert.Equal(1, state.RejectedByOperator["evolver"]);
        Assert.Equal(1, state.RejectedBySlot[2]);
    }

    [Fact]
    public void Stopping_rules_cover_budget_target_and_patience()
    {
        var state = Initialized(s: 0.5);
        Assert.Null(state.StopReason(Settings, TimeSpan.Zero));
        state.Evaluations = 100;
        Assert.Contains("max-evaluations", state.StopReason(Settings, TimeSpan.Zero), StringComparison.Ordinal);
        state.Evaluations = 10;
        Assert.Contains("max-wall-time", state.StopReason(Settings with { MaxWallTime = TimeSpan.FromSeconds(1) }, TimeSpan.FromSeconds(2)), StringComparison.Ordinal);
        Assert.Contains("target", state.StopReason(Settings with { TargetScore = 0.5 }, TimeSpan.Zero), StringComparison.Ordinal);
        Assert.Contains("patience", state.StopReason(Settings with { Patience = 5 }, TimeSpan.Zero), StringComparison.Ordinal);
    }

    [Fact]
    public void A_budget_change_replaces_the_config_s_values_until_the_config_is_edited()
    {
        var configured = Settings with { MaxEvaluations = 100, Patience = 0 };
        var state = Initialized();
        state.Apply(new BudgetChanged(500, null, null, null, BudgetValues.Of(configured), DateTime.UtcNow));
        Assert.Equal(500, state.Effective(configured).MaxEvaluations);
        Assert.Equal(0, state.Effective(configured).Patience);
        Assert.Null(state.StopReason(state.Effective(configured) with { }, TimeSpan.Zero));

        // The config edited since (a resume with another budget): its word is the later one.
        var edited = configured with { MaxEvaluations = 2000 };
        Assert.Equal(2000, state.Effective(edited).MaxEvaluations);

        // A later change under the edited config keeps only what still stands: patience set, max-evaluations the config's.
        state.Apply(new BudgetChanged(null, null, null, 7, BudgetValues.Of(edited), DateTime.UtcNow));
        Assert.Equal((2000L, 7), (state.Effective(edited).MaxEvaluations, state.Effective(edited).Patience));
        Assert.Equal(2000, state.Effective(configured with { MaxEvaluations = 2000 }).MaxEvaluations);
    }

    [Fact]
    public void Acceptances_are_counted_by_operator_as_rejections_are()
    {
        var state = Initialized();
        state.Apply(Accepted(1, 0, 0.9, 2));
        state.Apply(Accepted(2, 1, 0.9, 3) with { Operator = "ties" });
        Assert.Equal(new Dictionary<string, long> { ["evolver"] = 1, ["ties"] = 1 }, state.AcceptedByOperator);
        Assert.Equal(1, state.Copy().AcceptedByOperator["ties"]);
    }

    private static OffspringInfo Candidate(long sequence) =>
        new($"o-c{sequence}", Recipe.ForCoefficients(sequence, [0, 1, 2], ["init-0", "init-1", "init-2"], [0, 0.5, -0.5]),
            new LedgerView(0, ["init-0", "init-1", "init-2"], [0, 0, 0], null, false));

    [Fact]
    public void A_coefficient_candidate_is_held_to_the_best_merge_whatever_its_version_and_changes_it_not_the_members()
    {
        var state = Initialized(s: 0.5);
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Merged, Candidate(0), 0.5, 0, 0).Verdict);
        state.Apply(new RecipeRejected(0, 0, "cma-es", 0.5, 0, "0.5000 <= best merge 0.5000", 2, DateTime.UtcNow));
        state.Apply(new RecipeFailed(1, 0, "cma-es", "evaluator gone", 3, DateTime.UtcNow));
        var info = Candidate(2);
        state.Apply(new RecipeAccepted(1, info.Recipe, info.Id, "", "hash", 0.6, 0.5, 4, "e0", DateTime.UtcNow));

        Assert.Equal(["init-0", "init-1", "init-2"], state.SlotWeights);
        Assert.Equal((info.Id, 0.6, 1L, 1L, 3L), (state.SearchBest, state.PopulationScore!.Value, state.Version, state.Accepted, state.NextSequence));
        Assert.Equal([0.5, null, 0.6], state.SearchScores!);
        Assert.Contains(info.Id, state.PinnedIds());
        // Scored when the population was at version 0: a merge's score does not depend on it, so no re-score.
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Merged, Candidate(3), 0.61, 0, 0).Verdict);
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Merged, Candidate(3), 0.6, 0, 0).Verdict);
        var copy = state.Copy();
        Assert.Equal(state.SearchBest, copy.SearchBest);
        Assert.Equal(state.SearchScores, copy.SearchScores);
        Assert.NotSame(state.SearchScores, copy.SearchScores);
        Assert.Null(Initialized().SearchScores); // a breeding run keeps none
    }
}
