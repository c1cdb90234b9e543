using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Service;

/// <summary>
/// The journal is the truth (docs/architecture.md §3): a real run's accepted members are rebuilt from the starting
/// checkpoints and the recipes alone, bit for bit (the content hashes the run measured when it scored them), disk does
/// not grow per acceptance, and the reproducible schedule gives one lineage whatever the number of evaluators.
/// </summary>
public sealed class RecipeReplayTests
{
    [Fact]
    public async Task Replay_rebuilds_every_accepted_member_bit_for_bit_from_recipes_alone()
    {
        using var fixture = new ServiceFixture(seed: 21);
        var config = fixture.Config("replayed", mode: "merged", schedule: "steady-state", evaluations: 60, evaluators: 2);
        File.AppendAllText(config, "evolver.run.persistence.population-snapshot-every = 2\nevolver.run.persistence.snapshot-every = 1\n");
        var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, "replayed", fixture.Runs, TextWriter.Null));
        Assert.Equal(0, exitCode);
        var run = RunDirectory.Open(fixture.Runs, "replayed");
        var report = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(report.Recipes.Count >= 2, $"a replay test needs acceptances; the run made {report.Recipes.Count}");

        // Every accepted member, rebuilt from recipes only (no snapshot), hashes to what the run evaluated.
        var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath));
        var weights = RunWeights.OpenForReading(run, resolved, report, CPU, useSnapshots: false);
        foreach (var accepted in report.Recipes)
        {
            using var lease = weights.Resident.Acquire(accepted.WeightsId);
            Assert.Equal(accepted.ContentHash, WeightHash.Of(lease.Weights));
        }
        Assert.True(weights.Materializer.Rebuilds >= report.Recipes.Count, "every accepted member was rebuilt, none loaded from a snapshot");

        // No weight file per acceptance: snapshots keep at most the pinned members of the newest two snapshots.
        Assert.False(Directory.Exists(run.WeightsPath));
        var snapshotFiles = Directory.EnumerateFiles(Path.Combine(run.Root, RunWeights.SnapshotsDirectoryName), "*.safetensors").Count();
        Assert.True(snapshotFiles <= 2 * (report.State.SlotWeights.Length + resolved.Config.Settings.ViewWindow(report.State.SlotWeights.Length)),
            $"{snapshotFiles} snapshot files for {report.Recipes.Count} acceptances");

        // Steward snapshots (every acceptance here) are collected: the newest two stay.
        using (var journal = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={run.JournalPath};Mode=ReadOnly;Pooling=False"))
        {
            journal.Open();
            using var count = journal.CreateCommand();
            count.CommandText = "select count(*) from snapshot";
            var kept = (long)count.ExecuteScalar()!;
            Assert.InRange(kept, 1, 2);
        }

        // `evolver replay` at the last version and at a middle one: from snapshots and from recipes, the same bytes.
        foreach (var version in new[] { report.State.Version, report.State.Version / 2 })
        {
            var fromSnapshots = ReplayCommand.Replay(fixture.Runs, "replayed", version, Path.Combine(fixture.Runs, $"out-s-{version}"), fused: false, fromRecipes: false);
            var fromRecipes = ReplayCommand.Replay(fixture.Runs, "replayed", version, Path.Combine(fixture.Runs, $"out-r-{version}"), fused: false, fromRecipes: true);
            Assert.Equal(fromSnapshots.Slots, fromRecipes.Slots);
            Assert.True(File.Exists(Path.Combine(fixture.Runs, $"out-r-{version}", "slot-0", "model.safetensors")));
        }
        var fused = ReplayCommand.Replay(fixture.Runs, "replayed", null, Path.Combine(fixture.Runs, "fused"), fused: true, fromRecipes: true);
        Assert.True(File.Exists(fused.Fused));
    }

    [Theory]
    [InlineData("individual", "steady-state")]
    [InlineData("merged", "steady-state")]
    [InlineData("merged", "generational")]
    public async Task The_same_seed_gives_the_same_lineage_with_one_evaluator_and_with_four(string mode, string schedule)
    {
        using var fixture = new ServiceFixture(seed: 13);
        var lineages = new List<string[]>();
        foreach (var evaluators in new[] { 1, 4 })
        {
            var runId = $"repro-{evaluators}";
            var config = fixture.Config(runId, mode: mode, schedule: schedule, evaluations: 40, evaluators: evaluators, seed: 5);
            var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, runId, fixture.Runs, TextWriter.Null));
            Assert.Equal(0, exitCode);
            var report = await JournalAccess.ReadLedgerAsync(RunDirectory.Open(fixture.Runs, runId));
            Assert.Equal(40, report.State.Evaluations);
            lineages.Add([.. report.Recipes.Select(a => $"v{a.Version} seq {a.Recipe.Sequence} slot {a.Slot} {a.WeightsId} dev {a.Score:R} hash {a.ContentHash}")]);
        }
        Assert.NotEmpty(lineages[0]); // something was accepted, so equality says something
        Assert.Equal(lineages[0], lineages[1]);
    }
}
