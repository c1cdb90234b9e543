using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Storage;

/// <summary>Where a run's journal is (docs/architecture.md §4): SQLite by default, PostgreSQL named by journal.json.</summary>
public sealed class JournalConnectionTests
{
    [Fact]
    public void A_run_directory_without_journal_json_keeps_its_journal_in_journal_db()
    {
        using var dir = new TempDir();
        var journal = JournalConnection.Of(dir.Path, dir.File("journal.db"));
        Assert.Equal(JournalProvider.Sqlite, journal.Provider);
        Assert.Equal(dir.File("journal.db"), journal.Display);
    }

    [Fact]
    public void A_PostgreSQL_journal_is_recorded_for_readers_and_named_without_secrets()
    {
        using var dir = new TempDir();
        var journal = JournalConnection.PostgreSql("Host=db.lab;Port=5433;Database=evolver;Username=evolver", "test");
        journal.Record(dir.Path);
        var read = JournalConnection.Of(dir.Path, dir.File("journal.db"));
        Assert.Equal(journal, read);
        Assert.Equal("postgresql://evolver@db.lab:5433/evolver", read.Display);
        Assert.Equal(LinqToDB.ProviderName.PostgreSQL15, read.LinqToDbProvider);
    }

    [Theory]
    [InlineData("Host=db;Database=evolver;Password=x", "holds a password")]
    [InlineData("Database=evolver", "needs Host and Database")]
    [InlineData("Host=db", "needs Host and Database")]
    [InlineData("Hots=db;Database=evolver", "is not a PostgreSQL connection string")]
    public void A_connection_string_that_cannot_work_is_one_line_naming_the_setting(string connection, string problem)
    {
        var error = Assert.Throws<EvolverException>(() => JournalConnection.PostgreSql(connection, "run.conf: evolver.run.persistence.postgresql"));
        Assert.StartsWith("run.conf: evolver.run.persistence.postgresql: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_damaged_journal_json_is_refused_not_taken_for_SQLite()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File(JournalConnection.LocationFileName), "{ not json");
        var error = Assert.Throws<EvolverException>(() => JournalConnection.Of(dir.Path, dir.File("journal.db")));
        Assert.Contains("journal.json: is not valid JSON", error.Message, StringComparison.Ordinal);
    }
}
