using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Service;

/// <summary>
/// The durability promise (docs/architecture.md §3) with real processes: kill -9 a running `evolver run`, restart it with the
/// same run id, and find every acceptance made before the kill still there — the journal's recipes rebuild every
/// accepted member bit for bit (checked against the content hash the run measured), and no weight file is written per
/// acceptance.
/// </summary>
public sealed class CrashResumeTests
{
    [Fact]
    public async Task A_killed_run_resumes_with_every_accepted_adoption_intact()
    {
        using var fixture = new ServiceFixture();
        var config = fixture.Config("crash", mode: "individual", schedule: "steady-state", evaluations: 400, evaluators: 1);

        using (var first = fixture.Start("run", "--config", config, "--run-id", "crash", "--runs", fixture.Runs))
        {
            fixture.WaitForStatus("crash", s => s.Accepted >= 3, "first run: waiting for 3 acceptances", TimeSpan.FromMinutes(3), first);
            first.Kill(entireProcessTree: true); // SIGKILL: no graceful anything
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        var run = RunDirectory.Open(fixture.Runs, "crash");
        var before = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(before.Lineage.Count >= 3, $"journal holds {before.Lineage.Count} acceptances after the kill");
        Assert.Equal(RunStates.Interrupted, run.CurrentStatus()!.State); // the pid is dead: a killed run reads as interrupted
        Assert.NotNull(run.ReadStatus()!.StartToken); // and status.json holds what tells a reused pid apart
        Assert.False(Directory.Exists(run.WeightsPath), "no weight file per acceptance: the journal holds recipes");
        Assert.Equal(before.Lineage.Count, before.Recipes.Count);
        var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath));
        var rebuilt = RunWeights.OpenForReading(run, resolved, before, CPU);
        foreach (var accepted in before.Recipes)
        {
            using var lease = rebuilt.Resident.Acquire(accepted.WeightsId); // rebuilt from recipes, its content hash checked
            Assert.Equal(accepted.ContentHash, WeightHash.Of(lease.Weights));
        }

        // Temp files of writes the kill interrupted (a snapshot, a status): the restart deletes them under the lock.
        var leftovers = new[] { Path.Combine(run.Root, "snapshots", ".o-killed.safetensors.0123456789abcdef.tmp"), Path.Combine(run.Root, ".status.json.abc.tmp") };
        Directory.CreateDirectory(Path.Combine(run.Root, "snapshots"));
        foreach (var leftover in leftovers)
        {
            File.WriteAllText(leftover, "half a file");
        }

        using (var second = fixture.Start("run", "--config", config, "--run-id", "crash", "--runs", fixture.Runs))
        {
            await second.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
            Assert.True(second.ExitCode == 0, $"resumed run exited with {second.ExitCode}");
        }

        Assert.False(File.Exists(leftovers[0]), "the restart deletes temp files of interrupted writes");
        var after = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(after.State.Finished, "the resumed run finished");
        Assert.Equal(400, after.State.Evaluations);
        // Every acceptance from before the kill is the prefix of the final lineage, ids and versions unchanged.
        Assert.Equal(before.Lineage.Select(a => (a.Version, a.Slot, a.WeightsId)), after.Lineage.Take(before.Lineage.Count).Select(a => (a.Version, a.Slot, a.WeightsId)));
        Assert.Equal(after.Lineage.Count, after.State.Version);
        // The ledger's slots are the last accepted weights of each slot.
        for (var slot = 0; slot < after.State.SlotWeights.Length; slot++)
        {
            var last = after.Lineage.LastOrDefault(a => a.Slot == slot);
            Assert.Equal(last?.WeightsId ?? after.Starts[0].SlotWeights[slot], after.State.SlotWeights[slot]);
        }
        Assert.Equal(RunStates.Finished, run.CurrentStatus()!.State);
    }
}
