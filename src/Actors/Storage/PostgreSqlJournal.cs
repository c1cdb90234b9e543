using System.Globalization;
using Npgsql;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// A read-only look at a PostgreSQL journal, the counterpart of the SQLite probe: whether the database answers, has
/// Akka.Persistence.Sql's <c>journal</c> table, and the highest sequence number of the steward's events.
/// </summary>
internal static class PostgreSqlJournal
{
    /// <summary>How long a probe waits for the server before reporting it unreachable.</summary>
    private const int ConnectTimeoutSeconds = 10;

    public static JournalProbe Probe(JournalConnection journal, string persistenceId)
    {
        var connection = new NpgsqlConnectionStringBuilder(journal.ConnectionString) { Timeout = ConnectTimeoutSeconds, Pooling = false }.ConnectionString;
        try
        {
            using var db = new NpgsqlConnection(connection);
            db.Open();
            using var tables = db.CreateCommand();
            tables.CommandText = "SELECT to_regclass('journal') IS NOT NULL";
            if (tables.ExecuteScalar() is not true)
            {
                return new JournalProbe(JournalHealth.NoTables);
            }
            using var highest = db.CreateCommand();
            highest.CommandText = "SELECT max(sequence_number) FROM journal WHERE persistence_id = @id";
            highest.Parameters.AddWithValue("id", persistenceId);
            return highest.ExecuteScalar() is { } n and not DBNull && Convert.ToInt64(n, CultureInfo.InvariantCulture) is > 0 and var sequenceNr
                ? new JournalProbe(JournalHealth.Events, sequenceNr)
                : new JournalProbe(JournalHealth.NoEvents);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return new JournalProbe(JournalHealth.Unreadable, Detail: e.Message.Split('\n')[0]);
        }
    }
}
