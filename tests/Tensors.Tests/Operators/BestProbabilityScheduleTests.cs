using EvolverActors.Tensors;
using EvolverActors.Tensors.Operators;
using Xunit;

namespace EvolverActors.Tests.Operators;

/// <summary>The original Evolver implementation's parent choice: the annealed best-probability and the fixed target order.</summary>
public sealed class BestProbabilityScheduleTests
{
    private static readonly double[] Fitness = [0.1, 0.9, 0.5, 0.3, 0.7];

    [Fact]
    public void Reference_schedule_starts_near_one_half_and_reaches_zero_in_the_last_generation()
    {
        // 10 slots, 200 offspring: G = 20 generations-equivalent.
        Assert.Equal(0.5 - (0.5 / 20), BestProbabilitySchedule.ReferenceBestProbability(0, 10, 200), 12);
        Assert.Equal(0.475, BestProbabilitySchedule.ReferenceBestProbability(9, 10, 200), 12);
        Assert.Equal(0.5 - (0.5 / 19), BestProbabilitySchedule.ReferenceBestProbability(10, 10, 200), 12);
        Assert.Equal(0.5 - (0.5 / 2), BestProbabilitySchedule.ReferenceBestProbability(180, 10, 200), 12);
        Assert.Equal(0, BestProbabilitySchedule.ReferenceBestProbability(190, 10, 200));
        Assert.Equal(0, BestProbabilitySchedule.ReferenceBestProbability(199, 10, 200));
        Assert.Equal(0, BestProbabilitySchedule.ReferenceBestProbability(5000, 10, 200)); // past the budget
        // A partial last round still counts as a generation: G = ceil(205 / 10) = 21.
        Assert.Equal(0.5 - (0.5 / 21), BestProbabilitySchedule.ReferenceBestProbability(0, 10, 205), 12);
        // One generation or none: never the best.
        Assert.Equal(0, BestProbabilitySchedule.ReferenceBestProbability(0, 10, 10));
        Assert.Equal(0, BestProbabilitySchedule.ReferenceBestProbability(0, 10, 0));
    }

    [Fact]
    public void Reference_schedule_never_increases_over_a_run()
    {
        var previous = 1.0;
        for (long n = 0; n < 1000; n++)
        {
            var p = BestProbabilitySchedule.ReferenceBestProbability(n, 7, 1000);
            Assert.InRange(p, 0, 0.5);
            Assert.True(p <= previous, $"offspring {n}: {p} after {previous}");
            previous = p;
        }
    }

    [Fact]
    public void Schedules_parse_print_and_evaluate()
    {
        Assert.Same(BestProbabilitySchedule.Reference, BestProbabilitySchedule.Parse("reference"));
        Assert.Equal("reference", BestProbabilitySchedule.Parse(" Reference ").ToString());
        var constant = BestProbabilitySchedule.Parse("0.25");
        Assert.Equal(0.25, constant.Constant);
        Assert.Equal("0.25", constant.ToString());
        Assert.Equal(0.25, constant.For(123, 10, 200));
        Assert.Equal(0.475, BestProbabilitySchedule.Reference.For(0, 10, 200), 12);
        Assert.Throws<EvolverException>(() => BestProbabilitySchedule.Parse("1.5"));
        Assert.Throws<EvolverException>(() => BestProbabilitySchedule.Parse("annealed"));
        Assert.Throws<EvolverException>(() => BestProbabilitySchedule.Parse("NaN"));
    }

    [Fact]
    public void Probability_one_always_picks_the_best_other_member()
    {
        var op = new EvolverOperator();
        var rng = new Random(11);
        for (var i = 0; i < 200; i++)
        {
            var target = i % Fitness.Length;
            var expected = target == 1 ? 4 : 1; // the best is slot 1 (0.9); for slot 1 itself, slot 4 (0.7)
            Assert.Equal(expected, ParentSelection.Pick(op, target, Fitness, rng, bestProbability: 1)[0]);
        }
    }

    [Fact]
    public void Probability_zero_never_forces_the_best_and_draws_uniformly_from_the_others()
    {
        var op = new EvolverOperator(bestProbability: 1); // the explicit probability overrides the operator's constant
        var rng = new Random(12);
        var counts = new int[Fitness.Length];
        const int Draws = 8000;
        for (var i = 0; i < Draws; i++)
        {
            var parent = ParentSelection.Pick(op, 0, Fitness, rng, bestProbability: 0)[0];
            Assert.NotEqual(0, parent);
            counts[parent]++;
        }
        // Four other members: 2000 each expected, standard deviation about 39.
        for (var slot = 1; slot < Fitness.Length; slot++)
        {
            Assert.InRange(counts[slot], 1750, 2250);
        }
    }

    [Fact]
    public void Probability_one_half_picks_the_best_about_five_eighths_of_the_time()
    {
        // With p = 0.5 the best other member comes from the forced choice half the time, and from the uniform draw
        // over the four others a quarter of the other half: 0.5 + 0.5 · 0.25 = 0.625.
        var op = new EvolverOperator();
        var rng = new Random(13);
        const int Draws = 10_000;
        var best = 0;
        for (var i = 0; i < Draws; i++)
        {
            best += ParentSelection.Pick(op, 0, Fitness, rng, bestProbability: 0.5)[0] == 1 ? 1 : 0;
        }
        Assert.InRange(best / (double)Draws, 0.60, 0.65);
    }

    [Fact]
    public void The_old_constant_overload_replays_the_same_draws()
    {
        var op = new EvolverOperator(bestProbability: 0.3);
        var a = new Random(14);
        var b = new Random(14);
        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(ParentSelection.Pick(op, i % 5, Fitness, a)[0], ParentSelection.Pick(op, i % 5, Fitness, b, 0.3)[0]);
        }
    }

    [Fact]
    public void Out_of_range_probability_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ParentSelection.Pick(new EvolverOperator(), 0, Fitness, new Random(1), 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParentSelection.Pick(new EvolverOperator(), 0, Fitness, new Random(1), double.NaN));
    }

    [Fact]
    public void Fixed_order_visits_slot_n_mod_N()
    {
        for (long n = 0; n < 50; n++)
        {
            Assert.Equal((int)(n % 7), TargetSequence.TargetFor(TargetOrder.Fixed, 3, n, 7));
        }
    }

    [Fact]
    public void Shuffled_order_visits_every_slot_once_per_round_and_rounds_differ()
    {
        const int Slots = 9;
        var rounds = new List<int[]>();
        for (long round = 0; round < 20; round++)
        {
            var visited = Enumerable.Range(0, Slots).Select(i => TargetSequence.TargetFor(TargetOrder.Shuffled, 5, (round * Slots) + i, Slots)).ToArray();
            Assert.Equal(Enumerable.Range(0, Slots), visited.Order());
            Assert.Equal(visited, TargetSequence.RoundPermutation(5, round, Slots));
            rounds.Add(visited);
        }
        Assert.True(rounds.Select(r => string.Join(",", r)).Distinct().Count() > 15, "rounds should mostly have different orders");
        Assert.NotEqual(TargetSequence.RoundPermutation(5, 0, Slots), TargetSequence.RoundPermutation(6, 0, Slots));
    }
}
