using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using EvolverActors.Actors.Hosting;
using EvolverActors.Actors.Serialization;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EvolverActors.Host.Run;

/// <summary>Reads a run's ledger and lineage back from its journal, from any process (no cluster, read-only).</summary>
internal static class JournalAccess
{
    public static async Task<LedgerReport> ReadLedgerAsync(RunDirectory run)
    {
        if (!File.Exists(run.JournalPath))
        {
            throw new EvolverException($"run '{run.RunId}' has no journal at {run.JournalPath}: it never started");
        }
        using var host = QuietLifetime.BuildHost("evolver-reader", akka => akka
            .AddHocon(EvolverHosting.Hocon + "\n" + EvolverSerializer.Hocon, HoconAddMode.Prepend)
            .WithSqlPersistence(connectionString: $"Data Source={run.JournalPath}", providerName: LinqToDB.ProviderName.SQLiteMS, autoInitialize: true));
        await host.StartAsync().ConfigureAwait(false);
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var result = new TaskCompletionSource<LedgerReport>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new LedgerReader(run.RunId, result)), "ledger-reader");
            return await result.Task.WaitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        }
        finally
        {
            await host.StopAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>A host lifetime that neither prints nor hooks Ctrl-C (the run command handles signals itself).</summary>
internal sealed class QuietLifetime : IHostLifetime
{
    /// <summary>A generic host running one Akka system, with no console logging and no signal handling of its own.</summary>
    public static IHost BuildHost(string systemName, Action<AkkaConfigurationBuilder> configure)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
        builder.Services.AddAkka(systemName, configure);
        return builder.Build();
    }

    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
