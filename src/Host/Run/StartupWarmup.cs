using System.Runtime.CompilerServices;
using LinqToDB;
using LinqToDB.Data;

namespace EvolverActors.Host.Run;

/// <summary>
/// Initializes the journal's stack (SQLite's native library, linq2db's SQLite provider, the Akka cluster and persistence
/// assemblies with their static state) on a thread-pool thread while libtorch loads on another, so that a resumed node
/// does not do it one step after the other once its actors start (docs/architecture.md, "Start-up"). It touches no run:
/// the query goes to an in-memory database; then the journal and snapshot store's own queries on a throwaway actor system
/// (<see cref="Actors.Hosting.PersistenceStackWarmup"/>). It has a thread of its own: on two cores the pool's threads are
/// busy with libtorch's load and the configuration, and a queued warm-up ran only after both, warming nothing.
/// </summary>
internal static class StartupWarmup
{
    private static readonly Lazy<Task> Warming = new(() => Task.Factory.StartNew(Warm, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));

    /// <summary>Starts the warm-up (once per process).</summary>
    public static Task Start() => Warming.Value;

    /// <summary>
    /// Loads SQLite's and OpenSSL's native libraries now, on the calling thread (a few milliseconds): libtorch's load,
    /// started next, holds the dynamic loader's lock for most of a second, and any thread that loads a native library
    /// meanwhile (the configuration's content hashes, the warm-up's SQLite) would wait for it.
    /// </summary>
    public static void LoadNatives()
    {
        try
        {
            SQLitePCL.Batteries_V2.Init();
            _ = System.Security.Cryptography.SHA256.HashData(ReadOnlySpan<byte>.Empty);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Only time is at stake: whoever needs them next loads them, and reports any real problem.
        }
    }

    private static void Warm()
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
            Actors.Hosting.PersistenceStackWarmup.Run(QuietLifetime.BuildHost, TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Only time is at stake: the node's own start meets, and reports, any real problem with these.
        }
        // What libtorch's start and these warm-ups freed stays in glibc's heaps unless given back (about 60 MB here), so
        // once both are done it goes back: off the start-up path, on this thread.
        if (TorchPreload.Loaded.Wait(TimeSpan.FromSeconds(30)))
        {
            _ = Tensors.Native.NativeHeap.ReturnFreedMemory();
        }
        Tensors.Diagnostics.StartupTrace.Mark("persistence stack warmed");
    }
}
