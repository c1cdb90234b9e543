using EvolverActors.Actors.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Operators;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary><c>breeding.best-probability</c> and <c>breeding.target-order</c>: defaults per fitness mode, parsing, identity.</summary>
public sealed class ParentChoiceSettingsTests
{
    private static RunSettings Parse(string body) => RunConfigText.Settings(body);

    [Fact]
    public void Individual_mode_defaults_to_the_reference_schedule_and_fixed_order()
    {
        var s = Parse("fitness.mode = individual, budget.max-evaluations = 210");
        Assert.True(s.BestProbabilitySchedule.IsReference);
        Assert.Equal(TargetOrder.Fixed, s.TargetOrder);
        // 10 slots: 10 initial scores, 200 offspring, G = 20.
        Assert.Equal(0.475, s.BestProbabilityFor(0, 10), 12);
        Assert.Equal(0, s.BestProbabilityFor(199, 10));
        Assert.Equal(3, s.TargetFor(13, 10));
        Assert.Equal("reference", s.Identity()["breeding.best-probability"]);
        Assert.Equal("fixed", s.Identity()["breeding.target-order"]);
    }

    [Fact]
    public void Merged_mode_keeps_a_zero_probability_and_shuffled_order()
    {
        var s = Parse("fitness.mode = merged");
        Assert.Equal(0, s.BestProbabilitySchedule.Constant);
        Assert.Equal(TargetOrder.Shuffled, s.TargetOrder);
        Assert.Equal(0, s.BestProbabilityFor(0, 10));
        Assert.Equal("0", s.Identity()["breeding.best-probability"]);
        Assert.Equal("shuffled", s.Identity()["breeding.target-order"]);
    }

    [Fact]
    public void Explicit_values_and_the_legacy_operator_parameter_are_honoured()
    {
        var s = Parse("fitness.mode = individual, breeding { best-probability = 0.2, target-order = shuffled }");
        Assert.Equal(0.2, s.BestProbabilityFor(0, 10));
        Assert.Equal(TargetOrder.Shuffled, s.TargetOrder);
        Assert.True(Parse("breeding.best-probability = reference").BestProbabilitySchedule.IsReference);
        Assert.Equal(0.3, Parse("fitness.mode = individual, breeding.operator-params { best-probability = 0.3 }").BestProbabilitySchedule.Constant);
    }

    [Theory]
    [InlineData("breeding.best-probability = often", "evolver.run.breeding.best-probability = 'often' is neither 'reference' nor a number in [0, 1]")]
    [InlineData("breeding.best-probability = 2", "evolver.run.breeding.best-probability = '2' is neither")]
    [InlineData("breeding { operator = de-rand-1, best-probability = 0.5 }", "applies to the evolver operator only")]
    [InlineData("breeding { best-probability = 0.5, operator-params { best-probability = 0.5 } }", "give it once")]
    [InlineData("breeding.target-order = random", "evolver.run.breeding.target-order = 'random' is unknown: use fixed | shuffled")]
    public void Bad_values_are_refused_naming_the_key(string body, string expected)
    {
        var e = Assert.Throws<EvolverException>(() => Parse(body));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
