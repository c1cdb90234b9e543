using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>
/// The journal in PostgreSQL (docs/architecture.md §4): a run written there survives kill -9 like one on SQLite, the
/// readers find it through the run directory's <c>journal.json</c>, and what cannot work is refused with one line
/// before anything is written. The server is the one `.ci/run` starts (<c>EVOLVER_TEST_POSTGRES</c>).
/// </summary>
public sealed class PostgreSqlJournalTests
{
    [Fact]
    public async Task A_run_on_PostgreSQL_survives_kill_9_and_its_readers_read_the_database()
    {
        var database = TestPostgres.RequireServer();
        using var fixture = new ServiceFixture();
        var runId = TestPostgres.UniqueRunId();
        var config = fixture.Config(runId, mode: "individual", schedule: "steady-state", evaluations: 120, evaluators: 1,
            extra: $"persistence.postgresql = \"{database}\"");

        using (var first = fixture.Start("run", "--config", config, "--run-id", runId, "--runs", fixture.Runs))
        {
            fixture.WaitForStatus(runId, s => s.Accepted >= 3, "first run: waiting for 3 acceptances", TimeSpan.FromMinutes(3), first);
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        var run = RunDirectory.Open(fixture.Runs, runId);
        Assert.Equal(JournalProvider.PostgreSql, run.Journal.Provider);
        Assert.False(File.Exists(run.JournalPath), "no SQLite journal beside a PostgreSQL one");
        Assert.Equal(JournalHealth.Events, run.ProbeJournal().Health);
        var before = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(before.Lineage.Count >= 3, $"the database holds {before.Lineage.Count} acceptances after the kill");

        using (var second = fixture.Start("run", "--config", config, "--run-id", runId, "--runs", fixture.Runs))
        {
            await second.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
            Assert.True(second.ExitCode == 0, $"resumed run exited with {second.ExitCode}");
        }
        var after = await JournalAccess.ReadLedgerAsync(run);
        Assert.True(after.State.Finished, "the resumed run finished");
        Assert.Equal(120, after.State.Evaluations);
        Assert.Equal(before.Lineage.Select(a => (a.Version, a.Slot, a.WeightsId)), after.Lineage.Take(before.Lineage.Count).Select(a => (a.Version, a.Slot, a.WeightsId)));

        var (code, output, _) = CliRunner.Run("lineage", "--run", runId, "--runs", fixture.Runs);
        Assert.Equal(0, code);
        Assert.Contains(after.Lineage[^1].WeightsId, output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_run_directory_with_a_run_id_the_database_already_holds_is_refused()
    {
        var database = TestPostgres.RequireServer();
        using var fixture = new ServiceFixture();
        var runId = TestPostgres.UniqueRunId();
        var config = fixture.Config(runId, mode: "individual", schedule: "steady-state", evaluations: 6, evaluators: 1,
            extra: $"persistence.postgresql = \"{database}\"");
        Assert.Equal(0, CliRunner.Run("run", "--config", config, "--run-id", runId, "--runs", fixture.Runs).Code);

        var otherRuns = Path.Combine(Path.GetDirectoryName(fixture.Runs)!, "other-runs");
        var (code, _, error) = CliRunner.Run("run", "--config", config, "--run-id", runId, "--runs", otherRuns);
        Assert.Equal(2, code);
        Assert.Contains("already holds events of a run", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(otherRuns, runId, RunDirectory.StartedFileName)));
    }

    [Fact]
    public void A_password_in_the_connection_string_is_refused_before_anything_is_written()
    {
        var (error, runDirectoryMade) = RefusedRun("Host=127.0.0.1;Database=evolver;Username=evolver;Password=hunter2");
        Assert.Contains("persistence.postgresql: holds a password", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
        Assert.False(runDirectoryMade);
    }

    [Fact]
    public void An_unreachable_journal_database_is_one_line_and_exit_2()
    {
        // Port 9 (discard) on loopback: nothing listens there, so the connection is refused at once.
        var (error, _) = RefusedRun("Host=127.0.0.1;Port=9;Database=evolver;Username=evolver");
        Assert.Contains("cannot reach the journal database postgresql://evolver@127.0.0.1:9/evolver", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    /// <summary>`evolver run` with a journal in <paramref name="connection"/>: exit status 2, its stderr, and whether the run directory exists.</summary>
    private static (string Error, bool RunDirectoryMade) RefusedRun(string connection)
    {
        using var fixture = new ServiceFixture();
        var config = fixture.Config("refused", mode: "individual", schedule: "steady-state", evaluations: 6, evaluators: 1,
            extra: $"persistence.postgresql = \"{connection}\"");
        var (code, _, error) = CliRunner.Run("run", "--config", config, "--run-id", "refused", "--runs", fixture.Runs);
        Assert.Equal(2, code);
        return (error, Directory.Exists(Path.Combine(fixture.Runs, "refused")));
    }
}
