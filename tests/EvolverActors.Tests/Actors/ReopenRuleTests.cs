using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>A finished run goes on when its budget was raised, and only then (docs/architecture.md §3).</summary>
public sealed class ReopenRuleTests
{
    private static readonly DateTime At = DateTime.UnixEpoch;

    private static StewardState FinishedAt(long evaluations, string reason, RunSettings finishedUnder)
    {
        var state = new StewardState();
        state.Apply(new RunInitialized(["m0", "m1"], [0.5, 0.6], 0.6, evaluations, At));
        state.Apply(new RunFinished(reason, At, BudgetValues.Of(finishedUnder)));
        return state;
    }

    private static readonly RunSettings Hundred = new() { Task = "t", MaxEvaluations = 100 };

    [Fact]
    public void More_evaluations_reopen_a_run_that_spent_its_budget_and_the_same_budget_does_not()
    {
        var state = FinishedAt(100, "max-evaluations (100) reached", Hundred);
        Assert.False(state.CanReopen(Hundred));
        Assert.True(state.CanReopen(Hundred with { MaxEvaluations = 150 }));
        state.Apply(new RunReopened(state.FinishedReason!, BudgetValues.Of(Hundred with { MaxEvaluations = 150 }), At));
        Assert.False(state.Finished);
        Assert.Null(state.FinishedBudget);
        Assert.Null(state.StopReason(Hundred with { MaxEvaluations = 150 }, TimeSpan.Zero));
    }

    [Fact]
    public void A_higher_target_reopens_a_run_that_reached_its_target_unless_another_rule_still_holds()
    {
        var settings = Hundred with { MaxEvaluations = 500, TargetScore = 0.6 };
        var state = FinishedAt(40, "target score 0.6 reached", settings);
        Assert.False(state.CanReopen(settings));
        Assert.True(state.CanReopen(settings with { TargetScore = 0.7 }));
        Assert.True(state.CanReopen(settings with { TargetScore = null }));
        Assert.False(state.CanReopen(settings with { TargetScore = 0.7, MaxEvaluations = 40 }));
    }

    [Fact]
    public void Wall_time_counts_per_session_so_only_a_raised_max_wall_time_reopens()
    {
        var settings = Hundred with { MaxWallTime = TimeSpan.FromHours(1) };
        var state = FinishedAt(10, "max-wall-time (01:00:00) reached", settings);
        Assert.False(state.CanReopen(settings));
        Assert.True(state.CanReopen(settings with { MaxWallTime = TimeSpan.FromHours(2) }));
        // Finished before the budget was kept with the event: not by wall time, then.
        var older = new StewardState();
        older.Apply(new RunInitialized(["m0", "m1"], [0.5, 0.6], 0.6, 10, At));
        older.Apply(new RunFinished("max-wall-time (01:00:00) reached", At));
        Assert.False(older.CanReopen(settings with { MaxWallTime = TimeSpan.FromHours(2) }));
    }

    [Fact]
    public void A_run_that_is_not_finished_is_not_reopened()
    {
        var state = new StewardState();
        state.Apply(new RunInitialized(["m0", "m1"], [0.5, 0.6], 0.6, 10, At));
        Assert.False(state.CanReopen(Hundred));
    }
}
