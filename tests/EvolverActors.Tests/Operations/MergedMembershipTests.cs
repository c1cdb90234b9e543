using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Host.Run;
using EvolverActors.Tests.Service;
using Xunit;

namespace EvolverActors.Tests.Operations;

/// <summary>
/// Admission and retirement in a merged <c>fisher</c> run, a real `evolver run` process on the synthetic zoo
/// (docs/architecture.md §6): the new member brings its Fisher statistics (`admit --fisher`), which the run keeps in its
/// population snapshots and names in the event; without them, or with Gram statistics, the admission is refused in one
/// line; after a retirement and kill -9 the resumed run merges each member with its own statistics again, and the
/// result exports.
/// </summary>
public sealed class MergedMembershipTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly ServiceFixture _fixture = new(seed: 21);

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task A_member_admitted_with_its_fisher_statistics_and_a_retirement_survive_kill_9_and_the_run_exports()
    {
        var zoo = _fixture.Zoo;
        var models = Enumerable.Range(0, 3).Select(k => Path.Combine(zoo, "models", $"model-{k}")).ToList();
        var fresh = Path.Combine(zoo, "base"); // a checkpoint of the same layout that is not yet a member
        string Statistics(string model, string name)
        {
            var output = Path.Combine(zoo, "stats", name);
            var (code, _, error) = CliRunner.Run("stats", "--task", _fixture.TaskFile, "--model", model, "--out", output, "--fisher-examples", "32", "--gram-examples", "32");
            Assert.True(code == 0, error);
            return output;
        }
        var stats = models.Select((m, k) => Statistics(m, $"model-{k}")).ToList();
        var freshStats = Statistics(fresh, "base");

        var config = Path.Combine(zoo, "fisher.conf");
        File.WriteAllText(config, $$"""
            evolver.run {
              task = "{{_fixture.TaskFile}}"
              population {
                models = [{{string.Join(", ", models.Select(m => $"\"{m}\""))}}]
                statistics.fisher = [{{string.Join(", ", stats.Select(s => $"\"{Path.Combine(s, "fisher.safetensors")}\""))}}]
              }
              fitness { mode = merged, merge-method = fisher }
              breeding { operator = evolver, f = 0.5, cr = 0.5, seed = 5, queue = 2 }
              evaluators.devices = [cpu]
              budget.max-evaluations = 1000000
              persistence.snapshot-every = 5
              http.bind = "127.0.0.1:0"
            }
            """);
        string[] Cli(params string[] args) => [.. args, "--run", "fisher", "--runs", _fixture.Runs];

        string[] run = ["run", "--config", config, "--run-id", "fisher", "--runs", _fixture.Runs];
        var first = _fixture.Start(run);
        var serving = _fixture.WaitForStatus("fisher", s => s.Http is not null && s.Evaluations > 5, "serving", Patience, first);
        // The page's admit command says what such a run needs besides the model.
        using (var http = new HttpClient())
        {
            var status = JsonNode.Parse(await http.GetStringAsync(new Uri($"http://{serving.Http}/api/status"), TestContext.Current.CancellationToken))!;
            Assert.EndsWith("--model DIR --fisher FILE", status["commands"]!["admit"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Without statistics, or with the other kind: one line each, exit 2, nothing changes.
        var (code, said, error) = CliRunner.Run(Cli("admit", "--model", fresh));
        Assert.Equal(2, code);
        Assert.Contains("this run merges with fisher: give the new member's statistics with --fisher FILE", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        (code, _, error) = CliRunner.Run(Cli("admit", "--model", fresh, "--gram", Path.Combine(freshStats, "gram.safetensors")));
        Assert.Equal(2, code);
        Assert.Contains("not the other kind", error, StringComparison.Ordinal);
        // A Gram file given as --fisher is named for what it is.
        (code, _, error) = CliRunner.Run(Cli("admit", "--model", fresh, "--fisher", Path.Combine(freshStats, "gram.safetensors")));
        Assert.Equal(2, code);
        Assert.Contains("not Fisher statistics", error, StringComparison.Ordinal);
        Assert.Equal(3, RunDirectory().ReadStatus()!.Members);

        (code, said, error) = CliRunner.Run(Cli("admit", "--model", fresh, "--name", "base", "--fisher", Path.Combine(freshStats, "fisher.safetensors")));
        Assert.True(code == 0, error);
        Assert.Contains("base admitted as slot 3", said, StringComparison.Ordinal);
        (code, said, error) = CliRunner.Run(Cli("retire", "--slot", "0", "--reason", "drifted"));
        Assert.True(code == 0, error);

        var changed = RunDirectory().ReadStatus()!;
        _fixture.WaitForStatus("fisher", s => s.Evaluations > changed.Evaluations + 10, "breeding with the new population", Patience, first);
        first.Kill(entireProcessTree: true); // SIGKILL
        await first.WaitForExitAsync(TestContext.Current.CancellationToken);

        var before = await JournalAccess.ReadLedgerAsync(RunDirectory());
        var admitted = Assert.IsType<MemberAdmitted>(before.Membership![0]);
        Assert.Equal((3, "base"), (admitted.Slot, admitted.Name));
        Assert.StartsWith("s-", admitted.Statistics, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(RunDirectory().Root, RunWeights.SnapshotsDirectoryName, admitted.Statistics + ".safetensors")),
            "the admitted member's statistics are kept in the run's snapshots");

        var second = _fixture.Start(run);
        var resumed = _fixture.WaitForStatus("fisher", s => s.State == "running" && s.Evaluations > before.State.Evaluations + 10, "resumed", Patience, second);
        Assert.Equal(3, resumed.Members); // 3 + 1 admitted − 1 retired
        Assert.Equal(0, CliRunner.Run(Cli("stop")).Code);
        Assert.True(second.WaitForExit(Patience), "the resumed run did not stop");
        Assert.Equal(0, second.ExitCode);

        var after = await JournalAccess.ReadLedgerAsync(RunDirectory());
        Assert.Equal(before.Membership.Count, after.Membership!.Count);
        Assert.Equal(admitted.Statistics, Assert.IsType<MemberAdmitted>(after.Membership[0]).Statistics);
        // The fused model of the population as it is now (slots 1, 2, 3 with their own statistics) exports.
        (code, said, error) = CliRunner.Run(["export", "--run", "fisher", "--runs", _fixture.Runs, "--out", Path.Combine(zoo, "fused")]);
        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(zoo, "fused", "model.safetensors")));
    }

    private EvolverActors.Actors.Storage.RunDirectory RunDirectory() => EvolverActors.Actors.Storage.RunDirectory.Open(_fixture.Runs, "fisher");
}
