using System.Globalization;
using System.Text.Json;
using EvolverActors.Tensors;
using Microsoft.Data.Sqlite;

namespace EvolverActors.Actors.Storage;

/// <summary>What a read-only look at <c>journal.db</c> found (one indexed query, no replay).</summary>
public enum JournalHealth
{
    /// <summary>There is no journal.db.</summary>
    Missing,

    /// <summary>journal.db has 0 bytes (truncated, or created and never written).</summary>
    Empty,

    /// <summary>journal.db is not a SQLite database, or SQLite cannot read it.</summary>
    Unreadable,

    /// <summary>A SQLite database without Akka.Persistence.Sql's <c>journal</c> table.</summary>
    NoTables,

    /// <summary>The journal table holds no event of the run's steward.</summary>
    NoEvents,

    /// <summary>A process that stopped mid-write left <c>journal.db-journal</c>, which a read-only reader cannot roll back.</summary>
    Unfinished,

    /// <summary>The steward's events are there, up to <see cref="JournalProbe.HighestSequenceNr"/>.</summary>
    Events,
}

/// <summary>The result of <see cref="RunDirectory.ProbeJournal"/>.</summary>
public sealed record JournalProbe(JournalHealth Health, long HighestSequenceNr = 0, string? Detail = null);

/// <summary>
/// The journal as seen without writing it (docs/architecture.md §3): readers open it read-only, and <c>evolver run</c>
/// refuses to start a run over when the run has started (<c>run.started</c>) but its journal holds none of its events.
/// </summary>
public sealed partial class RunDirectory
{
    /// <summary>Written (fsynced) once the steward's first event is in the journal: from then on the journal must hold the run's events.</summary>
    public const string StartedFileName = "run.started";

    // SQLite result codes (sqlite3.h): SQLITE_READONLY_ROLLBACK is the extended code of a hot journal on a read-only connection.
    private const int SqliteReadOnlyRollback = 776;

    private bool _startedRecorded;

    public string StartedPath => Path.Combine(Root, StartedFileName);

    /// <summary>The persistence id of the run's steward, whose events are the run's record.</summary>
    public string StewardPersistenceId => $"steward-{RunId}";

    /// <summary>
    /// Looks at <c>journal.db</c> read-only (never creates or changes it): whether it is there, a SQLite database with
    /// Akka.Persistence.Sql's <c>journal</c> table, and the highest sequence number of the steward's events.
    /// </summary>
    public JournalProbe ProbeJournal()
    {
        var journal = Journal;
        return journal.Provider == JournalProvider.PostgreSql ? PostgreSqlJournal.Probe(journal, StewardPersistenceId) : ProbeSqliteJournal();
    }

    private JournalProbe ProbeSqliteJournal()
    {
        var file = new FileInfo(JournalPath);
        if (!file.Exists)
        {
            return new JournalProbe(JournalHealth.Missing);
        }
        if (file.Length == 0)
        {
            return new JournalProbe(JournalHealth.Empty);
        }
        var connection = new SqliteConnectionStringBuilder { DataSource = JournalPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        try
        {
            using var db = new SqliteConnection(connection);
            db.Open();
            using var tables = db.CreateCommand();
            tables.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'journal'";
            if (Convert.ToInt64(tables.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
            {
                return new JournalProbe(JournalHealth.NoTables);
            }
            using var highest = db.CreateCommand();
            highest.CommandText = "SELECT max(sequence_number) FROM journal WHERE persistence_id = $id";
            highest.Parameters.AddWithValue("$id", StewardPersistenceId);
            return highest.ExecuteScalar() is long n and > 0
                ? new JournalProbe(JournalHealth.Events, n)
                : new JournalProbe(JournalHealth.NoEvents);
        }
        catch (SqliteException e) when (e.SqliteExtendedErrorCode == SqliteReadOnlyRollback)
        {
            return new JournalProbe(JournalHealth.Unfinished, Detail: e.Message);
        }
        catch (SqliteException e)
        {
            return new JournalProbe(JournalHealth.Unreadable, Detail: e.Message.Split('\n')[0]);
        }
    }

    /// <summary>One line naming the run and the file when <paramref name="probe"/> found no events of the run to read; else null.</summary>
    public string? JournalProblem(JournalProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (Journal is { Provider: JournalProvider.PostgreSql } database)
        {
            return probe.Health switch
            {
                JournalHealth.Unreadable => $"run '{RunId}': the journal database {database.Display} cannot be read ({probe.Detail})",
                JournalHealth.NoTables => $"run '{RunId}': the journal database {database.Display} has no journal table (never written)",
                JournalHealth.NoEvents => $"run '{RunId}': the journal database {database.Display} holds no events of the run ({StewardPersistenceId})",
                _ => null,
            };
        }
        return probe.Health switch
        {
            JournalHealth.Missing => $"run '{RunId}' has no journal at {JournalPath}",
            JournalHealth.Empty => $"run '{RunId}': {JournalPath} is empty (0 bytes): the journal was truncated or never written",
            JournalHealth.Unreadable => $"run '{RunId}': {JournalPath} is not a readable journal ({probe.Detail})",
            JournalHealth.NoTables => $"run '{RunId}': {JournalPath} has no journal table (it is not this run's journal, or was never written)",
            JournalHealth.NoEvents => $"run '{RunId}': {JournalPath} holds no events of the run ({StewardPersistenceId})",
            _ => null,
        };
    }

    /// <summary>
    /// Why the run counts as started (its journal must hold its events), or null: <c>run.started</c> exists, or, for runs
    /// from before that file, <c>status.json</c> reports evaluations (the steward writes them only after persisting them).
    /// </summary>
    public string? StartedEvidence()
    {
        if (File.Exists(StartedPath))
        {
            return $"{StartedFileName} records its first events";
        }
        try
        {
            return ReadStatus() is { Evaluations: > 0 } status
                ? string.Create(CultureInfo.InvariantCulture, $"{StatusFileName} reports {status.Evaluations} evaluations")
                : null;
        }
        catch (EvolverException)
        {
            return null; // a damaged status view proves nothing either way
        }
    }

    /// <summary>
    /// For <c>evolver run</c>, under the run lock, before anything is written: a run that has started (see
    /// <see cref="StartedEvidence"/>) but whose journal is missing, empty, not a journal or without the steward's events
    /// is refused with one line, instead of silently starting over at version 0. A journal with events gets its
    /// <c>run.started</c> record if it lacks one. Cheap: one indexed query, no replay.
    /// </summary>
    public void RequireJournalOfStartedRun()
    {
        var probe = ProbeJournal();
        if (Journal is { Provider: JournalProvider.PostgreSql } database)
        {
            if (probe.Health == JournalHealth.Unreadable)
            {
                throw new EvolverException($"run '{RunId}': cannot reach the journal database {database.Display} ({probe.Detail})");
            }
            if (probe.Health == JournalHealth.Events && StartedEvidence() is null)
            {
                throw new EvolverException($"run '{RunId}': the journal database {database.Display} already holds events of a run "
                    + $"'{RunId}' ({StewardPersistenceId}, up to sequence {probe.HighestSequenceNr}) that this run directory did not start: "
                    + "use another run id (run ids share one database)");
            }
        }
        if (StartedEvidence() is { } evidence && JournalProblem(probe) is { } problem)
        {
            throw new EvolverException($"{problem}, but the run has started ({evidence}): refusing to start it over from "
                + $"version 0; restore journal.db from a backup, or use a new run id");
        }
        if (probe.Health == JournalHealth.Events)
        {
            RecordStarted();
        }
    }

    /// <summary>
    /// For <c>evolver run</c>, under the run lock: makes <paramref name="configured"/> this run's journal. A run keeps the
    /// journal it started with (moving one between SQLite and PostgreSQL is refused, with one line); a PostgreSQL journal
    /// is recorded in <c>journal.json</c> so that readers find it.
    /// </summary>
    public void UseJournal(JournalConnection configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        var current = Journal;
        if (current.Provider == JournalProvider.PostgreSql && configured.Provider == JournalProvider.Sqlite)
        {
            throw new EvolverException($"run '{RunId}' keeps its journal in the database {current.Display} ({JournalConnection.LocationFileName}), "
                + "but its config names none: set evolver.run.persistence.postgresql to resume it");
        }
        if (current.Provider == JournalProvider.Sqlite && configured.Provider == JournalProvider.PostgreSql && File.Exists(JournalPath))
        {
            throw new EvolverException($"run '{RunId}' keeps its journal in {JournalPath}: a run cannot move its journal to "
                + $"{configured.Display}; start a new run id for PostgreSQL");
        }
        Directory.CreateDirectory(Root);
        configured.Record(Root);
    }

    /// <summary>Writes <c>run.started</c> (once; fsynced): the journal now holds the steward's events.</summary>
    internal void RecordStarted()
    {
        if (_startedRecorded)
        {
            return;
        }
        if (!File.Exists(StartedPath))
        {
            var record = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["persistence_id"] = StewardPersistenceId,
                ["recorded_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            };
            StoragePaths.WriteTextAtomically(StartedPath, JsonSerializer.Serialize(record, Json) + "\n");
        }
        _startedRecorded = true;
    }
}
