using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// The first query through Akka.Persistence.Sql costs about 0.4 s here (linq2db builds and compiles its queries, and
/// LanguageExt, which it uses, is not precompiled), and a resumed coordinator paid it on its critical path, when the
/// steward asked for its snapshot. This runs the same journal and snapshot queries once on a throwaway actor system
/// with an empty in-memory SQLite database, on a thread of the caller's choosing while libtorch loads, so that the real system
/// finds linq2db's query cache and the JIT warm (docs/architecture.md, "Start-up"). It touches no run.
/// </summary>
public static class PersistenceStackWarmup
{
    /// <param name="buildHost">Builds and returns a started-able host running one Akka system configured by the action.</param>
    /// <param name="timeout">How long to wait for the two answers; only time is at stake.</param>
    public static void Run(Func<string, Action<AkkaConfigurationBuilder>, Microsoft.Extensions.Hosting.IHost> buildHost, TimeSpan timeout)
    {
        // A shared in-memory database: nothing on disk, even when the process exits in the middle of this.
        var connection = $"Data Source=evolver-warm-up-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = buildHost("evolver-warm-up", akka => akka
            .AddHocon("akka.loglevel = OFF\nakka.stdout-loglevel = OFF\nakka.log-dead-letters = off", HoconAddMode.Prepend)
            .WithSqlPersistence(connectionString: connection, providerName: LinqToDB.ProviderName.SQLiteMS, autoInitialize: true)
            .AddStartup((system, _) => system.ActorOf(Props.Create(() => new PersistenceWarmup(answered)), "persistence-warm-up")));
        host.StartAsync().GetAwaiter().GetResult();
        answered.Task.Wait(timeout);
        host.StopAsync().GetAwaiter().GetResult();
    }
}
