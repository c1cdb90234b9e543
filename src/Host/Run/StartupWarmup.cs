using System.Runtime.CompilerServices;
using LinqToDB;
using LinqToDB.Data;

namespace EvolverActors.Host.Run;

/// <summary>
/// Initializes the journal's stack (SQLite's native library, linq2db's SQLite provider, the Akka cluster and persistence
/// assemblies with their static state) on a thread-pool thread while libtorch loads on another, so that a resumed node
/// does not do it one step after the other once its actors start (docs/architecture.md, "Start-up"). It touches no run:
/// the query goes to an in-memory database. It has a thread of its own: on two cores the pool's threads are busy with
/// libtorch's load and the configuration, and a queued warm-up ran only after both, warming nothing.
/// </summary>
internal static class StartupWarmup
{
    public static Task Start() => Task.Factory.StartNew(() =>
    {
        try
        {
            // Akka reads the application's .config file and parses durations with a regular expression once per process.
            _ = Akka.Configuration.ConfigurationFactory.Load();
            _ = Akka.Configuration.ConfigurationFactory.ParseString("warm-up = 250ms").GetTimeSpan("warm-up");
            using var db = new DataConnection(new DataOptions().UseConnectionString(ProviderName.SQLiteMS, "Data Source=:memory:"));
            _ = db.Execute<long>("select 1");
            foreach (var type in new[]
            {
                typeof(Akka.Cluster.Cluster), typeof(Akka.Cluster.Sharding.ClusterSharding), typeof(Akka.Cluster.Tools.Singleton.ClusterSingletonManager),
                typeof(Akka.Persistence.Sql.Journal.SqlWriteJournal), typeof(LanguageExt.Prelude),
            })
            {
                RuntimeHelpers.RunClassConstructor(type.TypeHandle);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Only time is at stake: the node's own start meets, and reports, any real problem with these.
        }
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
