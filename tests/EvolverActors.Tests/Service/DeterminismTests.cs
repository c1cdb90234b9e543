using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>Same seed, one evaluator, generational schedule: two runs make identical lineages.</summary>
public sealed class DeterminismTests
{
    [Fact]
    public async Task Generational_runs_with_one_evaluator_and_the_same_seed_have_identical_lineage()
    {
        using var fixture = new ServiceFixture(seed: 12);
        var config = fixture.Config("det", mode: "merged", schedule: "generational", evaluations: 16, evaluators: 1);
        var lineages = new List<string[]>();
        foreach (var runId in new[] { "det-a", "det-b" })
        {
            var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, runId, fixture.Runs, TextWriter.Null));
            Assert.Equal(0, exitCode);
            var report = await JournalAccess.ReadLedgerAsync(RunDirectory.Open(fixture.Runs, runId));
            Assert.Equal(16, report.State.Evaluations);
            lineages.Add([.. report.Lineage.Select(a => $"v{a.Version} slot {a.Slot} {a.WeightsId} from {string.Join(",", a.ParentWeights)} seed {a.Seed} dev {a.Score:R}")]);
        }
        Assert.NotEmpty(lineages[0]); // something was accepted, so equality says something
        Assert.Equal(lineages[0], lineages[1]);
    }
}
