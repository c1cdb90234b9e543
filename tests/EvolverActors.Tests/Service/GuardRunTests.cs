using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>
/// A real run with the guard against dev overfitting (docs/architecture.md §1, "The guard"): every decision is scored on
/// the selection part and the guard, no acceptance lets the guard fall, and the output is the best-guard version.
/// </summary>
public sealed class GuardRunTests
{
    [Fact]
    public async Task A_guarded_run_records_its_guard_scores_never_accepts_a_guard_fall_and_outputs_the_best_guard_version()
    {
        using var fixture = new ServiceFixture(seed: 13);
        var config = fixture.Config("guarded", mode: "individual", schedule: "steady-state", evaluations: 60, evaluators: 1,
            extra: "acceptance { guard-fraction = 0.3, guard-tolerance = 0, output = best-guard }");
        var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, "guarded", fixture.Runs, TextWriter.Null));
        Assert.Equal(0, exitCode);
        var run = RunDirectory.Open(fixture.Runs, "guarded");
        var report = await JournalAccess.ReadLedgerAsync(run);
        var state = report.State;

        Assert.NotNull(state.SlotGuards);
        Assert.All(report.Starts[0].SlotGuards!, g => Assert.InRange(g, 0, 1));
        Assert.True(state.Accepted > 0, "the run accepted nothing: the test shows nothing");
        Assert.All(report.Recipes, a =>
        {
            Assert.NotNull(a.Guard);
            Assert.True(a.Guard >= a.PreviousGuard, $"version {a.Version}: guard {a.Guard} fell below {a.PreviousGuard}");
        });
        Assert.NotNull(state.BestGuardVersion);

        using (var result = await RunResult.BuildAsync(fixture.Runs, "guarded"))
        {
            Assert.Equal(state.BestGuardVersion, result.Version);
        }
        using var lineage = JsonDocument.Parse(LineageCommand.Json(report, run.ReadFingerprint()!.Settings));
        Assert.Equal("0.3", lineage.RootElement.GetProperty("settings").GetProperty("acceptance.guard-fraction").GetString());
        Assert.Equal(state.BestGuardVersion, lineage.RootElement.GetProperty("guard").GetProperty("best_version").GetInt64());
        Assert.Equal(report.Recipes.Count, lineage.RootElement.GetProperty("guard").GetProperty("accepted").GetArrayLength());

        // The same config without the guard is another run: its fingerprint differs in the guard's setting, so a resume is refused naming it.
        var plain = fixture.Config("plain", mode: "individual", schedule: "steady-state", evaluations: 60, evaluators: 1);
        var difference = run.ReadFingerprint()!.FirstDifference(ResolvedRun.Resolve(Host.Config.RunConfiguration.Load(plain)).Fingerprint());
        Assert.Equal("a different config: acceptance.guard-fraction was 0.3 and is now unset", difference);
    }
}
