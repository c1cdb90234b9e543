using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>`evolver prune` is for runs made before recipes (their weight stores); a run since keeps no weight files to prune.</summary>
public sealed class PruneTests
{
    [Fact]
    public async Task A_run_with_recipes_has_nothing_to_prune_and_says_so()
    {
        using var fixture = new ServiceFixture(seed: 14);
        var run = await fixture.CompletedRunAsync("pruned", mode: "individual", schedule: "generational", evaluations: 20);
        Assert.False(Directory.Exists(run.WeightsPath));
        var refused = await Assert.ThrowsAsync<EvolverException>(() => RunPruning.PruneAsync(fixture.Runs, "pruned"));
        Assert.Contains("nothing to prune", refused.Message, StringComparison.Ordinal);
        using var exported = await RunResult.BuildAsync(fixture.Runs, "pruned");
        Assert.True(exported.Scores.Dev > 0);
    }
}
