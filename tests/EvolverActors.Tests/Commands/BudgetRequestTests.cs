using System.Text.Json.Nodes;
using EvolverActors.Host.Http;
using EvolverActors.Tensors;
using Xunit;

namespace EvolverActors.Tests.Commands;

/// <summary>The body of POST /api/budget: known keys, values in range, at least one.</summary>
public sealed class BudgetRequestTests
{
    [Fact]
    public void A_budget_names_what_changes_and_leaves_the_rest_unchanged()
    {
        var change = BudgetRequest.Parse(JsonNode.Parse("""{"max_evaluations": 5000, "target_score": 0.95}"""));
        Assert.Equal((5000L, (double?)null, 0.95, (int?)null), (change.MaxEvaluations, change.MaxWallTimeSeconds, change.TargetScore, change.Patience));
    }

    [Theory]
    [InlineData("""{"max_evals": 5}""", "unknown budget key 'max_evals'")]
    [InlineData("""{}""", "names nothing to change")]
    [InlineData("""{"max_evaluations": 0}""", "max_evaluations: 0 is out of range")]
    [InlineData("""{"patience": "soon"}""", "patience: '\"soon\"' is not a whole number")]
    [InlineData("""[1]""", "is a JSON object")]
    public void A_bad_budget_is_refused_in_one_line_naming_the_key(string body, string problem)
    {
        var e = Assert.Throws<EvolverException>(() => BudgetRequest.Parse(JsonNode.Parse(body)));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
