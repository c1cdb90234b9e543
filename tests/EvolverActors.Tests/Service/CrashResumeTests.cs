using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>
/// The durability promise (docs/architecture.md §3) with real processes: kill -9 a running `evolver run`, restart it with the
/// same run id, and find every acceptance made before the kill still there — journal, weight files and members agree.
/// Between the two, the stopped run is pruned: resuming needs only the current population's files.
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
        foreach (var accepted in before.Lineage)
        {
            using var weights = run.Weights.Load(accepted.WeightsId); // written and fsynced before the event
        }

        // Temp files of writes the kill interrupted (a whole model, a status): prune deletes them under the lock.
        var leftovers = new[] { Path.Combine(run.WeightsPath, ".o-killed.safetensors.0123456789abcdef.tmp"), Path.Combine(run.Root, ".status.json.abc.tmp") };
        foreach (var leftover in leftovers)
        {
            File.WriteAllText(leftover, "half a file");
        }

        // An operator frees disk before restarting (the dead pid's lock is taken over): only the current population stays.
        var pruned = await RunPruning.PruneAsync(fixture.Runs, "crash");
        Assert.Equal(before.State.SlotWeights.Distinct().Order(StringComparer.Ordinal), run.Weights.Ids());
        Assert.True(pruned.Removed > 0, "replaced weights were pruned");
        Assert.Equal(2, pruned.TempFiles);
        Assert.All(leftovers, leftover => Assert.False(File.Exists(leftover), leftover));
        // Prune removed the stale lock: the status still reads as interrupted (its own start token decides), not running.
        Assert.False(File.Exists(run.LockPath));
        Assert.Equal(RunStates.Interrupted, run.CurrentStatus()!.State);
        File.WriteAllText(leftovers[0], "another half file"); // the restart below deletes it too

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
        // The ledger's slots are the last accepted weights of each slot, and every one of them is on disk.
        for (var slot = 0; slot < after.State.SlotWeights.Length; slot++)
        {
            var last = after.Lineage.LastOrDefault(a => a.Slot == slot);
            Assert.Equal(last?.WeightsId ?? $"init-{slot}", after.State.SlotWeights[slot]);
            using var weights = run.Weights.Load(after.State.SlotWeights[slot]);
        }
        Assert.Equal(RunStates.Finished, run.CurrentStatus()!.State);
    }
}
