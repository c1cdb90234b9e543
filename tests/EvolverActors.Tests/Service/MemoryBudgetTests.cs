using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Service;

/// <summary>
/// A run under <c>memory.max-resident</c> (docs/architecture.md §3, members of any size): members are mapped, merged
/// candidates are merged per evaluation from the mapped members, adopted offspring are spilled into the snapshot store.
/// It must keep every guarantee of a run without a budget. (Its peak memory is what `evolver bench memory` measures.)
/// </summary>
public sealed class MemoryBudgetTests
{
    /// <summary>A budget of the candidate of each evaluator plus two offspring, in bytes of the fixture's models.</summary>
    private static long Budget(ServiceFixture fixture, int evaluators)
    {
        var model = Directory.EnumerateFiles(fixture.Zoo, "*.safetensors", SearchOption.AllDirectories).First();
        return (evaluators + 2) * Checkpoint.ReadLayout(model).Specs.Sum(SafetensorsWriter.DataBytes);
    }

    [Fact]
    public async Task A_budgeted_merged_run_spills_its_members_and_replays_bit_for_bit_and_its_lineage_does_not_depend_on_evaluators()
    {
        using var fixture = new ServiceFixture(seed: 21);
        var lineages = new List<string[]>();
        foreach (var evaluators in new[] { 1, 2 })
        {
            var runId = $"budgeted-{evaluators}";
            var config = fixture.Config(runId, mode: "merged", schedule: "steady-state", evaluations: 40, evaluators: evaluators, seed: 5);
            File.AppendAllText(config, $"evolver.run.memory.max-resident = {Budget(fixture, evaluators)}\nevolver.run.persistence.population-snapshot-every = 3\n");
            var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, runId, fixture.Runs, TextWriter.Null));
            Assert.Equal(0, exitCode);

            var run = RunDirectory.Open(fixture.Runs, runId);
            var report = await JournalAccess.ReadLedgerAsync(run);
            Assert.Equal(40, report.State.Evaluations);
            lineages.Add([.. report.Recipes.Select(a => $"v{a.Version} seq {a.Recipe.Sequence} slot {a.Slot} {a.WeightsId} dev {a.Score:R} hash {a.ContentHash}")]);

            // The current members are files in the snapshot store (spilled when adopted, or kept by the last snapshot).
            var stored = new PopulationSnapshots(Path.Combine(run.Root, RunWeights.SnapshotsDirectoryName));
            foreach (var id in report.State.SlotWeights.Where(id => id.StartsWith("o-", StringComparison.Ordinal)))
            {
                Assert.True(stored.Contains(id), $"member {id} has no verified file");
            }

            // Every accepted member, rebuilt from the recipes alone, is what the run evaluated.
            var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath));
            var weights = RunWeights.OpenForReading(run, resolved, report, CPU, useSnapshots: false);
            foreach (var accepted in report.Recipes)
            {
                using var lease = weights.Resident.Acquire(accepted.WeightsId);
                Assert.Equal(accepted.ContentHash, WeightHash.Of(lease.Weights));
            }
        }
        Assert.NotEmpty(lineages[0]); // something was accepted, so equality says something
        Assert.Equal(lineages[0], lineages[1]);
    }
}
