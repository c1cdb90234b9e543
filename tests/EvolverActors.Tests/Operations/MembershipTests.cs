using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Host.Bench;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tests.Cluster;
using Xunit;

namespace EvolverActors.Tests.Operations;

/// <summary>
/// Admission and retirement during a real `evolver run` process (docs/architecture.md §6): the CLI admits a checkpoint
/// and retires a slot, a wrong checkpoint is refused in one line, and after kill -9 and a resume the population and
/// the lineage are what they were, and the run goes on breeding into the admitted slot and never into the retired one.
/// </summary>
public sealed class MembershipTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_model_admitted_and_a_slot_retired_while_running_survive_kill_9_and_the_resumed_run_breeds_with_them()
    {
        using var cluster = new LoopbackCluster(budget: 1_000_000, extra: "http.bind = \"127.0.0.1:0\"", runId: "members");
        var fresh = Path.Combine(cluster.Root, "fresh-finetune");
        using (var weights = OpsBenchmark.SyntheticModel(20_000, seed: 1000 + LoopbackCluster.Members))
        {
            Checkpoint.Save(fresh, weights);
        }
        var misfit = Path.Combine(cluster.Root, "other-architecture");
        using (var weights = OpsBenchmark.SyntheticModel(10_000, seed: 7))
        {
            Checkpoint.Save(misfit, weights);
        }

        var first = cluster.StartCoordinator();
        var running = cluster.Fixture.WaitForStatus("members", s => s.Http is not null && s.Evaluations > 20, "serving", Patience, first);
        Assert.Equal(LoopbackCluster.Members, running.Members);

        var (code, said, error) = CliRunner.Run("admit", "--run", "members", "--runs", cluster.Fixture.Runs, "--model", fresh, "--name", "fresh-finetune");
        Assert.True(code == 0, error);
        Assert.Contains($"fresh-finetune admitted as slot {LoopbackCluster.Members}", said, StringComparison.Ordinal);
        Assert.Equal(LoopbackCluster.Members + 1, cluster.Run.ReadStatus()!.Members);

        // A checkpoint of another layout, or one admitted already: one line each, exit 2, nothing changes.
        (code, _, error) = CliRunner.Run("admit", "--run", "members", "--runs", cluster.Fixture.Runs, "--model", misfit);
        Assert.Equal(2, code);
        Assert.Contains("does not fit the run's population", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        (code, _, error) = CliRunner.Run("admit", "--run", "members", "--runs", cluster.Fixture.Runs, "--model", fresh);
        Assert.Equal(2, code);
        Assert.Contains($"slot {LoopbackCluster.Members} of the population already", error, StringComparison.Ordinal);

        (code, said, error) = CliRunner.Run("retire", "--run", "members", "--runs", cluster.Fixture.Runs, "--slot", "0", "--reason", "drifted");
        Assert.True(code == 0, error);
        Assert.Contains("slot 0 retired (drifted)", said, StringComparison.Ordinal);
        (code, _, error) = CliRunner.Run("retire", "--run", "members", "--runs", cluster.Fixture.Runs, "--slot", "0");
        Assert.Equal(2, code);
        Assert.Contains("slot 0 was retired already", error, StringComparison.Ordinal);

        var changed = cluster.Run.ReadStatus()!;
        cluster.Fixture.WaitForStatus("members", s => s.Evaluations > changed.Evaluations + 60, "breeding with the new population", Patience, first);
        first.Kill(entireProcessTree: true); // SIGKILL
        await first.WaitForExitAsync(TestContext.Current.CancellationToken);

        var before = await JournalAccess.ReadLedgerAsync(cluster.Run);
        var admitted = Assert.IsType<MemberAdmitted>(before.Membership![0]);
        var retired = Assert.IsType<MemberRetired>(before.Membership[1]);
        Assert.Equal((LoopbackCluster.Members, "fresh-finetune", fresh), (admitted.Slot, admitted.Name, admitted.Source));
        Assert.Equal(MemberImport.IdOf(admitted.ContentHash), admitted.WeightsId);
        Assert.Equal((0, "drifted"), (retired.Slot, retired.Reason));
        Assert.Equal([0], before.State.RetiredSlots);
        Assert.Equal(LoopbackCluster.Members + 1, before.State.SlotWeights.Length);

        var second = cluster.StartCoordinator();
        var resumed = cluster.Fixture.WaitForStatus("members", s => s.State == "running" && s.Evaluations > before.State.Evaluations + 100, "resumed", Patience, second);
        Assert.Equal(LoopbackCluster.Members, resumed.Members); // 6 + 1 admitted − 1 retired
        Assert.Equal(0, CliRunner.Run("stop", "--run", "members", "--runs", cluster.Fixture.Runs).Code);
        await LoopbackCluster.ExitsWith(0, second, Patience);

        var after = await JournalAccess.ReadLedgerAsync(cluster.Run);
        // The same population and lineage as before the kill, then more of it.
        Assert.Equal(before.Membership.Select(Describe), after.Membership!.Select(Describe));
        Assert.Equal(before.Lineage.Select(a => (a.Version, a.Slot, a.WeightsId)), after.Lineage.Take(before.Lineage.Count).Select(a => (a.Version, a.Slot, a.WeightsId)));
        Assert.Equal([0], after.State.RetiredSlots);
        var firstIntoAdmitted = after.Lineage.FirstOrDefault(a => a.Slot == admitted.Slot);
        Assert.Equal(admitted.WeightsId, firstIntoAdmitted?.ReplacedWeightsId ?? after.State.SlotWeights[admitted.Slot]);
        // Nothing accepted into the retired slot after its retirement; the admitted slot was bred into.
        Assert.DoesNotContain(after.Lineage, a => a.Version > retired.Version && a.Slot == 0);
        Assert.True(after.State.RejectedBySlot[admitted.Slot] + after.Lineage.Count(a => a.Slot == admitted.Slot) > 0, "no offspring ever targeted the admitted slot");

        // The lineage names both changes.
        var (lineageCode, lineageJson, lineageError) = CliRunner.Run("lineage", "--run", cluster.RunId, "--runs", cluster.Fixture.Runs);
        Assert.True(lineageCode == 0, lineageError);
        var lineage = JsonNode.Parse(lineageJson)!;
        Assert.Equal("fresh-finetune", lineage["admitted"]![0]!["Name"]!.GetValue<string>());
        Assert.Equal(0, lineage["retired"]![0]!["Slot"]!.GetValue<int>());
    }

    private static string Describe(IMembershipChange change) => $"{change.GetType().Name} {change.Slot} {change.WeightsId} v{change.Version}";
}
