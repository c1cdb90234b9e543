using Akka.Actor;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>The guard against dev overfitting as pure state and protocol (docs/architecture.md §1, "The guard").</summary>
public sealed class GuardRuleTests
{
    private static readonly DateTime At = DateTime.UnixEpoch;

    private static OffspringInfo Offspring(long sequence, int target) =>
        new($"o-{sequence}", new Recipe(Recipe.CurrentFormat, sequence, target, $"m{target}", [1], ["m1"], "evolver", 0.5, 0.5, "binomial", false,
            "element", null, "raw", (ulong)sequence), new LedgerView(0, ["m0", "m1", "m2"], [0, 0, 0], null, false));

    private static StewardState Individual(params double[] guards)
    {
        var state = new StewardState();
        state.Apply(new RunInitialized(["m0", "m1", "m2"], [0.5, 0.6, 0.7], null, 3, At, guards, null));
        return state;
    }

    [Fact]
    public void Individual_mode_accepts_a_better_offspring_only_while_its_guard_does_not_fall_past_the_tolerance()
    {
        var state = Individual(0.8, 0.8, 0.8);
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Individual, Offspring(0, 0), 0.55, 0.80, 0, 0, 0).Verdict);
        var fell = state.Decide(FitnessMode.Individual, Offspring(0, 0), 0.55, 0.79, 0, 0, 0);
        Assert.Equal(Verdict.Reject, fell.Verdict);
        Assert.Contains("guard 0.7900 < 0.8000", fell.Reason, StringComparison.Ordinal);
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Individual, Offspring(0, 0), 0.55, 0.79, 0.02, 0, 0).Verdict);
        // The score rule comes first: a guard that rose does not make a worse offspring acceptable.
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Individual, Offspring(0, 0), 0.45, 0.99, 0, 0, 0).Verdict);
        // A missing or non-finite guard score is never accepted in a guarded run.
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Individual, Offspring(0, 0), 0.55, null, 0, 0, 0).Verdict);
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Individual, Offspring(0, 0), 0.55, double.NaN, 0, 0, 0).Verdict);
    }

    [Fact]
    public void A_run_without_a_guard_decides_on_the_score_alone()
    {
        var state = new StewardState();
        state.Apply(new RunInitialized(["m0", "m1", "m2"], [0.5, 0.6, 0.7], null, 3, At));
        Assert.Equal(Verdict.Accept, state.Decide(FitnessMode.Individual, Offspring(0, 0), 0.55, null, 0, 0, 0).Verdict);
        Assert.Null(state.OutputGuard());
        Assert.Null(state.BestGuardVersion);
    }

    [Fact]
    public void The_best_guard_version_follows_the_output_the_best_member_by_dev_in_individual_mode()
    {
        var state = Individual(0.9, 0.8, 0.7); // the best member by dev is slot 2, whose guard is 0.7
        Assert.Equal((0L, 0.7), (state.BestGuardVersion!.Value, state.BestGuard!.Value));
        state.Apply(Accepted(1, 0, score: 0.75, guard: 0.85, previousGuard: 0.9)); // slot 0 is now the best by dev: output guard 0.85
        Assert.Equal((1L, 0.85), (state.BestGuardVersion!.Value, state.BestGuard!.Value));
        state.Apply(Accepted(2, 1, score: 0.8, guard: 0.6, previousGuard: 0.8)); // slot 1 best by dev, its guard fell: best stays at version 1
        Assert.Equal((1L, 0.85), (state.BestGuardVersion!.Value, state.BestGuard!.Value));
        Assert.Equal(0.6, state.OutputGuard());
        Assert.Equal([0.85, 0.6, 0.7], state.SlotGuards!);
    }

    [Fact]
    public void Merged_mode_holds_offspring_to_the_guard_of_the_merged_population_and_tracks_its_best_version()
    {
        var state = new StewardState();
        state.Apply(new RunInitialized(["m0", "m1", "m2"], [0.6, 0.6, 0.6], 0.6, 1, At, [0.7, 0.7, 0.7], 0.7));
        Assert.Equal(0.7, state.CurrentGuard(FitnessMode.Merged, 2));
        Assert.Equal(Verdict.Reject, state.Decide(FitnessMode.Merged, Offspring(0, 2), 0.65, 0.69, 0, 0, 0).Verdict);
        state.Apply(Accepted(1, 2, score: 0.65, guard: 0.72, previousGuard: 0.7));
        Assert.Equal((0.72, 1L), (state.PopulationGuard!.Value, state.BestGuardVersion!.Value));
        Assert.All(state.SlotGuards!, g => Assert.Equal(0.72, g));
        var copy = state.Copy();
        Assert.Equal((state.BestGuard, state.BestGuardVersion, state.PopulationGuard), (copy.BestGuard, copy.BestGuardVersion, copy.PopulationGuard));
        Assert.NotSame(state.SlotGuards, copy.SlotGuards);
    }

    [Fact]
    public void The_machine_stores_each_decisions_guard_scores_and_rejects_a_guard_fall()
    {
        var settings = new RunSettings { Task = "spec", Mode = FitnessMode.Individual, MaxEvaluations = 100, Guard = new GuardSettings { Fraction = 0.3 } };
        var machine = new StewardMachine(settings);
        machine.Apply(new RunInitialized(["m0", "m1", "m2"], [0.5, 0.6, 0.7], null, 3, At, [0.8, 0.8, 0.8], null));
        machine.Offer(new OffspringScored(Offspring(0, 0), 0.55, 0, "h0", "e0", ActorRefs.Nobody, Guard: 0.7)); // better on dev, guard fell
        machine.Offer(new OffspringScored(Offspring(1, 1), 0.65, 0, "h1", "e0", ActorRefs.Nobody, Guard: 0.81));
        var steps = machine.Drain(At);
        Assert.Equal(2, steps.Count); // a rejection, then the acceptance that ends the drain
        var rejected = Assert.IsType<RecipeRejected>(steps[0].Event);
        Assert.Equal(0.7, rejected.Guard);
        Assert.Contains("guard", rejected.Reason, StringComparison.Ordinal);
        var accepted = Assert.IsType<RecipeAccepted>(steps[1].Event);
        Assert.Equal((0.81, 0.8), (accepted.Guard!.Value, accepted.PreviousGuard!.Value));
        machine.Apply(rejected);
        machine.Apply(accepted);
        Assert.Equal(0.81, machine.Ledger.SlotGuards![1]);
    }

    private static RecipeAccepted Accepted(long version, int slot, double score, double guard, double previousGuard) =>
        new(version, Offspring(version - 1, slot).Recipe, $"o-{version}", $"m{slot}", "hash", score, 0, 3 + version, "e0", At, guard, previousGuard);
}
