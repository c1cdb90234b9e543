using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Host.Run;
using Microsoft.Data.Sqlite;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>
/// A journal.db whose steward events cannot be read back: `evolver run` ends with exit 3 and one line (it used to
/// wait for a steward that had stopped), and the ledger readers behind status/lineage/export fail at once.
/// </summary>
public sealed class JournalDamageTests
{
    [Fact]
    public async Task A_damaged_journal_ends_the_run_with_one_line_and_readers_fail_fast()
    {
        using var fixture = new ServiceFixture(seed: 13);
        var run = await fixture.CompletedRunAsync("damaged", mode: "merged", schedule: "generational", evaluations: 8);
        using (var db = new SqliteConnection($"Data Source={run.JournalPath};Pooling=False"))
        {
            db.Open();
            using var damage = db.CreateCommand();
            damage.CommandText = "UPDATE journal SET message = X'7b7b7b00' WHERE persistence_id = 'steward-damaged'; DELETE FROM snapshot;";
            Assert.True(damage.ExecuteNonQuery() > 0);
        }
        // As after a crash: the status file still says running, so the next start recovers instead of reporting.
        var status = JsonNode.Parse(File.ReadAllText(run.StatusPath))!;
        status["state"] = "running";
        File.WriteAllText(run.StatusPath, status.ToJsonString());

        var output = new StringWriter();
        var resume = RunLauncher.RunAsync(RunRequest.FromFile(run.ConfigPath, "damaged", fixture.Runs, output));
        var (exitCode, _) = await resume.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(StewardActor.JournalFailedExitCode, exitCode);
        var last = output.ToString().TrimEnd().Split('\n')[^1];
        Assert.StartsWith("[damaged] failed: the journal could not be read back", last, StringComparison.Ordinal);

        var read = JournalAccess.ReadLedgerAsync(run);
        var error = await Assert.ThrowsAsync<JournalUnreadableException>(() => read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("the journal of run 'damaged' cannot be read back", error.Message, StringComparison.Ordinal);
    }
}
