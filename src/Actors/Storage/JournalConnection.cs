using System.Text.Json;
using EvolverActors.Tensors;
using Npgsql;

namespace EvolverActors.Actors.Storage;

/// <summary>Where a run's journal lives: the embedded SQLite file of its run directory, or a PostgreSQL database.</summary>
public enum JournalProvider
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// A run's journal: the database Akka.Persistence.Sql writes and every reader reads (docs/architecture.md §4). SQLite
/// (<c>journal.db</c> in the run directory) is the default for one machine; PostgreSQL is for several nodes, whose
/// steward may move to another machine. A PostgreSQL connection string never holds a password (run directories are
/// copied and read by others): Npgsql takes it from <c>PGPASSWORD</c> or <c>~/.pgpass</c>.
/// </summary>
public sealed record JournalConnection(JournalProvider Provider, string ConnectionString)
{
    /// <summary>The file in a run directory that names a PostgreSQL journal (absent: the run's journal is journal.db).</summary>
    public const string LocationFileName = "journal.json";

    /// <summary>linq2db's provider name, which Akka.Persistence.Sql takes.</summary>
    public string LinqToDbProvider => Provider == JournalProvider.Sqlite ? LinqToDB.ProviderName.SQLiteMS : LinqToDB.ProviderName.PostgreSQL15;

    /// <summary>How messages name it: the file, or the PostgreSQL host, port and database.</summary>
    public string Display
    {
        get
        {
            if (Provider == JournalProvider.Sqlite)
            {
                return new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource;
            }
            var b = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"postgresql://{b.Username}@{b.Host}:{b.Port}/{b.Database}";
        }
    }

    public static JournalConnection Sqlite(string path) => new(JournalProvider.Sqlite, $"Data Source={path}");

    /// <summary>A PostgreSQL journal; <paramref name="source"/> names the setting in a one-line error.</summary>
    public static JournalConnection PostgreSql(string connectionString, string source)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new EvolverException($"{source}: is not a PostgreSQL connection string ({e.Message.Split('\n')[0]})");
        }
        if (string.IsNullOrEmpty(builder.Host) || string.IsNullOrEmpty(builder.Database))
        {
            throw new EvolverException($"{source}: needs Host and Database (for example \"Host=127.0.0.1;Port=5432;Database=evolver;Username=evolver\")");
        }
        if (!string.IsNullOrEmpty(builder.Password))
        {
            throw new EvolverException($"{source}: holds a password, which would be copied into the run directory: "
                + "set PGPASSWORD or use ~/.pgpass instead");
        }
        return new JournalConnection(JournalProvider.PostgreSql, builder.ConnectionString);
    }

    /// <summary>The journal of a run directory: the PostgreSQL database its <see cref="LocationFileName"/> names, else its journal.db.</summary>
    public static JournalConnection Of(string runRoot, string sqlitePath)
    {
        var location = Path.Combine(runRoot, LocationFileName);
        if (!File.Exists(location))
        {
            return Sqlite(sqlitePath);
        }
        try
        {
            var record = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(location));
            return record is not null && record.TryGetValue("postgresql", out var connection)
                ? PostgreSql(connection, location)
                : throw new EvolverException($"{location}: names no journal (expected {{\"postgresql\": \"<connection string>\"}})");
        }
        catch (JsonException e)
        {
            throw new EvolverException($"{location}: is not valid JSON ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>Records a PostgreSQL journal in the run directory (atomically), so that readers find it; SQLite needs no record.</summary>
    public void Record(string runRoot)
    {
        if (Provider == JournalProvider.PostgreSql)
        {
            var text = JsonSerializer.Serialize(new Dictionary<string, string> { ["postgresql"] = ConnectionString }) + "\n";
            StoragePaths.WriteTextAtomically(Path.Combine(runRoot, LocationFileName), text);
        }
    }
}
