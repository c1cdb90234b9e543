using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>`evolver prune`: a stopped run keeps only its current population's files, and still exports and resumes.</summary>
public sealed class PruneTests
{
    [Fact]
    public async Task A_pruned_run_keeps_its_population_lineage_and_export_and_a_running_one_is_refused()
    {
        using var fixture = new ServiceFixture(seed: 14);
        var run = await fixture.CompletedRunAsync("pruned", mode: "individual", schedule: "generational", evaluations: 20);
        var store = new WeightStore(run.WeightsPath);
        var before = store.Ids().ToList();
        var ledger = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(ledger.State.Accepted > 0, "something was accepted, so something is prunable");

        using (run.AcquireLock())
        {
            var refused = await Assert.ThrowsAsync<EvolverException>(() => RunPruning.PruneAsync(fixture.Runs, "pruned"));
            Assert.Contains("is already running", refused.Message, StringComparison.Ordinal);
        }
        Assert.Equal(before, store.Ids());

        var pruned = await RunPruning.PruneAsync(fixture.Runs, "pruned");

        var current = ledger.State.SlotWeights.Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(current, store.Ids());
        Assert.Equal((before.Count - current.Count, current.Count), (pruned.Removed, pruned.Kept));
        var after = await JournalAccess.ReadLedgerAsync(run);
        Assert.Equal(ledger.Lineage.Count, after.Lineage.Count);
        using var exported = await RunResult.BuildAsync(fixture.Runs, "pruned");
        Assert.Equal(ledger.State.BestDev(FitnessMode.Individual), exported.Scores.Dev, 6);
    }
}
