using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>A run that spent its budget goes on when its config's budget is raised, keeping every acceptance (docs/architecture.md §3).</summary>
public sealed class FinishedRunExtensionTests
{
    [Fact]
    public async Task A_finished_run_started_with_a_larger_budget_goes_on_from_where_it_finished()
    {
        using var fixture = new ServiceFixture(seed: 14);
        var small = fixture.Config("small", mode: "individual", schedule: "steady-state", evaluations: 20, evaluators: 1);
        Assert.Equal(0, (await RunLauncher.RunAsync(RunRequest.FromFile(small, "grow", fixture.Runs, TextWriter.Null))).ExitCode);
        var run = RunDirectory.Open(fixture.Runs, "grow");
        var first = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(first.State.Finished);
        Assert.Equal(20, first.State.Evaluations);

        // The same budget again: it reports and changes nothing.
        var again = new StringWriter();
        Assert.Equal(0, (await RunLauncher.RunAsync(RunRequest.FromFile(small, "grow", fixture.Runs, again))).ExitCode);
        Assert.Contains("already finished", again.ToString(), StringComparison.Ordinal);
        Assert.Equal(first.Events, (await JournalAccess.ReadLedgerAsync(run)).Events);

        // A larger one: it goes on to the new budget, and the lineage it had is the start of the one it has.
        var larger = fixture.Config("larger", mode: "individual", schedule: "steady-state", evaluations: 35, evaluators: 1);
        Assert.Equal(0, (await RunLauncher.RunAsync(RunRequest.FromFile(larger, "grow", fixture.Runs, TextWriter.Null))).ExitCode);
        var after = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(after.State.Finished);
        Assert.Equal(35, after.State.Evaluations);
        Assert.Equal(first.Lineage.Select(a => a.WeightsId), after.Lineage.Take(first.Lineage.Count).Select(a => a.WeightsId));
        Assert.Equal("finished", run.ReadStatus()!.State);
    }
}
