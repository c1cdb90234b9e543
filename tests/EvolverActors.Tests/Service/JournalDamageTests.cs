using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tests.Storage;
using Microsoft.Data.Sqlite;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>
/// A journal.db whose steward events cannot be read back: `evolver run` ends with exit 3 and one line (it used to
/// wait for a steward that had stopped), and the ledger readers behind status/lineage/export fail at once. A journal
/// that lost the run's events (truncated, replaced, deleted) is refused by readers and by `evolver run` with one line,
/// and readers never write into the run directory.
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

    [Fact]
    public async Task A_journal_without_the_runs_events_is_refused_by_readers_and_by_run_and_never_written()
    {
        using var fixture = new ServiceFixture(seed: 15);
        var run = await fixture.CompletedRunAsync("emptied", mode: "individual", schedule: "generational", evaluations: 8);
        Assert.True(File.Exists(run.StartedPath), "the first status with evaluations records run.started");
        // As after a crash: the status says running, its process is gone, so `evolver run` would resume.
        var status = JsonNode.Parse(File.ReadAllText(run.StatusPath))!;
        status["state"] = "running";
        status["pid"] = 999_999_999;
        status.AsObject().Remove("start_token");
        File.WriteAllText(run.StatusPath, status.ToJsonString());

        // A healthy journal: the readers change nothing (read-only, no tables created).
        var healthy = DirectorySnapshot.Take(run.Root);
        Assert.Equal(0, CliRunner.Run("lineage", "--run", "emptied", "--runs", fixture.Runs).Code);
        Assert.Equal(0, CliRunner.Run("status", "--run", "emptied", "--runs", fixture.Runs).Code);
        Assert.Equal(healthy, DirectorySnapshot.Take(run.Root));

        var original = File.ReadAllBytes(run.JournalPath);
        var otherRuns = Path.Combine(fixture.Runs, "..", "journal-of-no-run.db");
        File.WriteAllBytes(otherRuns, original);
        using (var db = new SqliteConnection($"Data Source={otherRuns};Pooling=False"))
        {
            db.Open();
            using var delete = db.CreateCommand();
            delete.CommandText = "DELETE FROM journal WHERE persistence_id = 'steward-emptied'";
            Assert.True(delete.ExecuteNonQuery() > 0);
        }
        var cases = new (string Name, Action Damage, string Problem)[]
        {
            ("truncated", () => File.WriteAllBytes(run.JournalPath, []), "journal.db is empty (0 bytes)"),
            ("not sqlite", () => File.WriteAllText(run.JournalPath, "definitely not a database, but long enough to be read as one"), "journal.db is not a readable journal"),
            ("no tables", () => { File.Delete(run.JournalPath); using var db = new SqliteConnection($"Data Source={run.JournalPath};Pooling=False"); db.Open(); using var c = db.CreateCommand(); c.CommandText = "CREATE TABLE other (x)"; c.ExecuteNonQuery(); }, "journal.db has no journal table"),
            ("no events", () => File.Copy(otherRuns, run.JournalPath, overwrite: true), "journal.db holds no events of the run (steward-emptied)"),
        };
        foreach (var (name, damage, problem) in cases)
        {
            damage();
            var before = DirectorySnapshot.Take(run.Root);

            var (code, output, error) = CliRunner.Run("lineage", "--run", "emptied", "--runs", fixture.Runs);
            Assert.True((code, output) == (2, ""), $"{name}: lineage exited {code} with {output}");
            Assert.StartsWith($"error: run 'emptied': {run.JournalPath} ", error.TrimEnd().Split('\n').Single(), StringComparison.Ordinal);
            Assert.Contains(problem, error, StringComparison.Ordinal);
            var status2 = CliRunner.Run("status", "--run", "emptied", "--runs", fixture.Runs);
            Assert.Contains("\"state\":\"interrupted\"", status2.Output, StringComparison.Ordinal);
            await Assert.ThrowsAsync<JournalUnreadableException>(() => JournalAccess.ReadLedgerAsync(run));
            Assert.Equal(before, DirectorySnapshot.Take(run.Root));

            // `evolver run` refuses to start the run over at version 0; its files stay as they were (taking and
            // releasing run.lock changes only the directory's time).
            var refused = await Assert.ThrowsAsync<EvolverException>(() => RunLauncher.RunAsync(RunRequest.FromFile(run.ConfigPath, "emptied", fixture.Runs, TextWriter.Null)));
            Assert.Contains(problem, refused.Message, StringComparison.Ordinal);
            Assert.Contains("but the run has started (run.started records its first events): refusing to start it over", refused.Message, StringComparison.Ordinal);
            Assert.Equal(before.Skip(1), DirectorySnapshot.Take(run.Root).Skip(1));
        }

        // A run from before run.started: status.json's evaluations are the evidence. And a journal deleted outright.
        File.Delete(run.StartedPath);
        File.Delete(run.JournalPath);
        var missing = await Assert.ThrowsAsync<EvolverException>(() => RunLauncher.RunAsync(RunRequest.FromFile(run.ConfigPath, "emptied", fixture.Runs, TextWriter.Null)));
        Assert.StartsWith($"run 'emptied' has no journal at {run.JournalPath}, but the run has started (status.json reports ", missing.Message, StringComparison.Ordinal);
        Assert.EndsWith(" evaluations): refusing to start it over from version 0; restore journal.db from a backup, or use a new run id", missing.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(run.JournalPath));

        // The journal restored from a backup: readers read it, and the next start records run.started again.
        File.WriteAllBytes(run.JournalPath, original);
        Assert.True((await JournalAccess.ReadLedgerAsync(run)).State.Evaluations >= 8);
        run.RequireJournalOfStartedRun();
        Assert.True(File.Exists(run.StartedPath));
    }
}
