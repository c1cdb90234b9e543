using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using EvolverActors.Actors.Hosting;
using EvolverActors.Actors.Serialization;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EvolverActors.Host.Run;

/// <summary>
/// Reads a run's ledger and lineage back from its journal, from any process (no cluster). Readers never write
/// (docs/architecture.md §3): the journal is opened read-only without creating tables, and one without the run's
/// events is refused with one line naming the run and the file (a <see cref="JournalUnreadableException"/>: exit 2).
/// </summary>
internal static class JournalAccess
{
    public static async Task<LedgerReport> ReadLedgerAsync(RunDirectory run)
    {
        var probe = run.ProbeJournal();
        if (run.Journal is { Provider: JournalProvider.PostgreSql } database)
        {
            return run.JournalProblem(probe) is { } unreadable
                ? throw new JournalUnreadableException(unreadable)
                : await ReplayAsync(run, database).ConfigureAwait(false);
        }
        if (probe.Health == JournalHealth.Missing)
        {
            throw new JournalUnreadableException($"run '{run.RunId}' has no journal at {run.JournalPath}: it never started");
        }
        if (run.JournalProblem(probe) is { } problem)
        {
            throw new JournalUnreadableException(problem);
        }
        // A process that stopped mid-write left a hot journal.db-journal, which only a writer may roll back: read a
        // private copy of the two files instead (rolled back there), so that the run directory stays untouched.
        var copy = probe.Health == JournalHealth.Unfinished ? CopyUnfinished(run) : null;
        try
        {
            // Not pooled: a pooled connection of an earlier read would outlive a journal.db replaced since (restored from a backup).
            var connection = copy is null
                ? $"Data Source={run.JournalPath};Mode=ReadOnly;Pooling=False"
                : $"Data Source={Path.Combine(copy, RunDirectory.JournalFileName)};Pooling=False";
            var report = await ReplayAsync(run, new JournalConnection(JournalProvider.Sqlite, connection)).ConfigureAwait(false);
            // The rolled-back copy may hold none (the events were in the unfinished write), or they went meanwhile.
            return report.Events > 0 ? report : throw new JournalUnreadableException(run.JournalProblem(new JournalProbe(JournalHealth.NoEvents))!);
        }
        finally
        {
            if (copy is not null)
            {
                Directory.Delete(copy, recursive: true);
            }
        }
    }

    private static async Task<LedgerReport> ReplayAsync(RunDirectory run, JournalConnection journal)
    {
        using var host = QuietLifetime.BuildHost("evolver-reader", akka => akka
            .AddHocon(EvolverHosting.Hocon + "\n" + EvolverSerializer.Hocon, HoconAddMode.Prepend)
            .WithSqlPersistence(connectionString: journal.ConnectionString, providerName: journal.LinqToDbProvider, autoInitialize: false));
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

    private static string CopyUnfinished(RunDirectory run)
    {
        var copy = Directory.CreateTempSubdirectory("evolver-journal-").FullName;
        // The rollback journal first: should a writer roll it back meanwhile, rolling the copy back again is harmless.
        var hot = run.JournalPath + "-journal";
        if (File.Exists(hot))
        {
            File.Copy(hot, Path.Combine(copy, RunDirectory.JournalFileName + "-journal"));
        }
        File.Copy(run.JournalPath, Path.Combine(copy, RunDirectory.JournalFileName));
        return copy;
    }
}

/// <summary>A host lifetime that neither prints nor hooks Ctrl-C (the run command handles signals itself).</summary>
internal sealed class QuietLifetime : IHostLifetime
{
    /// <summary>A generic host running one Akka system, with no console logging and no signal handling of its own.</summary>
    public static IHost BuildHost(string systemName, Action<AkkaConfigurationBuilder> configure)
    {
        // Empty: no appsettings files (and their watchers), environment or command-line configuration, which no
        // evolver host reads; the default builder's set-up is part of every run's start-up time.
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>();
        builder.Services.AddAkka(systemName, configure);
        return builder.Build();
    }

    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
