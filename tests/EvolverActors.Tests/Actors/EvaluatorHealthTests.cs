using Akka.Actor;
using EvolverActors.Actors.Evaluation;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>An evaluator's failure streak and the steward's roster of evaluators, as pure state.</summary>
public sealed class EvaluatorHealthTests
{
    [Fact]
    public void An_evaluator_is_retired_after_the_configured_failures_in_a_row_naming_its_last_error()
    {
        var health = new EvaluatorHealth("cpu-1", maxConsecutiveFailures: 3);
        Assert.False(health.Failed("first"));
        Assert.False(health.Failed("second"));
        Assert.True(health.Failed("third"));
        Assert.True(health.Retired);
        Assert.Equal("evaluator 'cpu-1' retired after 3 consecutive failures: third", health.RetiredReason);
        Assert.False(health.Failed("fourth"), "a retired evaluator is retired once");
    }

    [Fact]
    public void A_success_resets_the_count()
    {
        var health = new EvaluatorHealth("cpu-1", maxConsecutiveFailures: 2);
        Assert.False(health.Failed("a"));
        health.Succeeded();
        Assert.Equal(0, health.ConsecutiveFailures);
        Assert.False(health.Failed("b"));
        Assert.True(health.Failed("c"));
    }

    [Fact]
    public void An_evaluator_that_cannot_start_is_retired_at_once()
    {
        var health = new EvaluatorHealth("meta-0", maxConsecutiveFailures: 5);
        health.CouldNotStart("no such device");
        Assert.Equal("evaluator 'meta-0' could not start: no such device", health.RetiredReason);
    }

    [Fact]
    public void Errors_are_kept_as_one_bounded_line()
    {
        // libtorch errors carry a C++ backtrace after the first line.
        Assert.Equal("Tensor on meta has no data", EvaluatorHealth.OneLine("\n  Tensor on meta has no data\nException raised from item at ...\nframe #0: ..."));
        var long_ = EvaluatorHealth.OneLine(new string('x', 1000));
        Assert.Equal(EvaluatorHealth.MaxErrorLength, long_.Length);
        Assert.EndsWith("…", long_, StringComparison.Ordinal);
        Assert.Equal("(no message)", EvaluatorHealth.OneLine(" \n "));
    }

    [Fact]
    public void The_roster_has_none_healthy_only_once_every_expected_evaluator_came_and_one_was_retired()
    {
        var (a, b) = (new FakeRef("a"), new FakeRef("b"));
        var roster = new EvaluatorRoster(expected: 2);
        roster.Register(a, "a");
        roster.Retire(a, "evaluator 'a' retired after 5 consecutive failures: boom");
        Assert.Null(roster.NoneHealthyReason()); // b has not registered yet: it may still come
        Assert.True(roster.IsGone(a));
        Assert.False(roster.Register(a, "a"), "a retired evaluator does not come back this session");

        roster.Register(b, "b");
        Assert.Null(roster.NoneHealthyReason());
        roster.Remove(b); // stopped without retiring
        Assert.Equal("no healthy evaluator left (evaluator 'a' retired after 5 consecutive failures: boom)", roster.NoneHealthyReason());
    }

    [Fact]
    public void Evaluators_that_only_stopped_do_not_end_the_run()
    {
        var a = new FakeRef("a");
        var roster = new EvaluatorRoster(expected: 1);
        roster.Register(a, "a");
        roster.Remove(a);
        Assert.Null(roster.NoneHealthyReason());
    }

    [Fact]
    public void The_initial_scores_go_to_the_next_healthy_evaluator_after_the_one_that_failed()
    {
        var (a, b, c) = (new FakeRef("a"), new FakeRef("b"), new FakeRef("c"));
        var roster = new EvaluatorRoster(expected: 3);
        Assert.Null(roster.NextScorer(null));
        roster.Register(a, "a");
        roster.Register(b, "b");
        roster.Register(c, "c");
        Assert.Equal(a, roster.NextScorer(null));
        Assert.Equal(b, roster.NextScorer(a));
        Assert.Equal(a, roster.NextScorer(c));
        roster.InitialScorer = b;
        roster.Retire(b, "gone");
        Assert.Null(roster.InitialScorer);
        Assert.Equal(a, roster.NextScorer(b)); // b is no longer listed: start from the first
        Assert.Equal(["a", "c"], roster.Healthy.Select(r => roster.NameOf(r)));
    }

    /// <summary>An actor reference that is only an identity (the roster never sends anything).</summary>
    private sealed class FakeRef(string name) : MinimalActorRef
    {
        public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "roster-spec")) / name;

        public override IActorRefProvider Provider => throw new NotSupportedException("not in these tests");
    }
}
