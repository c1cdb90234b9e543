using EvolverActors.Tensors;
using EvolverActors.Tensors.Operators;
using Xunit;

namespace EvolverActors.Tests.Operators;

public sealed class ParentSelectionTests
{
    private static readonly double[] Fitness = [0.1, 0.9, 0.5, 0.3, 0.7];

    [Fact]
    public void Random_parents_are_distinct_and_never_the_target()
    {
        var rng = new Random(1);
        for (var i = 0; i < 500; i++)
        {
            var target = i % Fitness.Length;
            var parents = ParentSelection.Pick(new DeRand1(), target, Fitness, rng);
            Assert.Equal(3, parents.Distinct().Count());
            Assert.DoesNotContain(target, parents);
        }
    }

    [Fact]
    public void Best_role_takes_the_fittest_member()
    {
        var parents = ParentSelection.Pick(new DeBest1(), 0, Fitness, new Random(2));
        Assert.Equal(1, parents[0]);
        Assert.DoesNotContain(1, parents[1..]);
    }

    [Fact]
    public void Evolver_with_best_probability_one_uses_the_best_other_member()
    {
        var op = OperatorRegistry.Get("evolver", new Dictionary<string, string> { ["best-probability"] = "1" });
        Assert.Equal(1, ParentSelection.Pick(op, 0, Fitness, new Random(3))[0]);
        Assert.Equal(4, ParentSelection.Pick(op, 1, Fitness, new Random(3))[0]);
    }

    [Fact]
    public void Too_small_population_is_refused()
    {
        var e = Assert.Throws<EvolverException>(() => ParentSelection.Pick(new DeRand1(), 0, [0.1, 0.2, 0.3], new Random(1)));
        Assert.Contains("at least 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Recipes_drawn_from_the_same_seed_are_identical()
    {
        var op = new EvolverOperator();
        var a = OffspringRecipe.Draw(op, new BreedingSettings(), 2, Fitness, new Random(7));
        var b = OffspringRecipe.Draw(op, new BreedingSettings(), 2, Fitness, new Random(7));
        Assert.Equal((a.Target, a.Seed, a.Operator), (b.Target, b.Seed, b.Operator));
        Assert.Equal(a.Parents, b.Parents);
    }
}
