using System.Net.Sockets;
using Akka.Actor;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Http;

/// <summary>How a run node starts, feeds and stops its <see cref="RunHttpServer"/> (docs/architecture.md §6).</summary>
internal static class RunHttp
{
    /// <summary>The endpoint starts this long after the actors, off the start-up path (Kestrel and OpenTelemetry cost CPU a resumed run needs first).</summary>
    private static readonly TimeSpan StartDelay = TimeSpan.FromSeconds(1);

    /// <summary>A configured address that another process holds is refused before the run starts (one line, exit 2).</summary>
    public static void RequireBindable(HttpSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.BindConfigured || settings.Bind.Port == 0)
        {
            return;
        }
        try
        {
            var probe = new TcpListener(settings.Bind);
            probe.Start();
            probe.Stop();
        }
        catch (SocketException e)
        {
            throw new EvolverException($"http.bind: cannot listen on {settings.Bind} ({e.Message})");
        }
    }

    /// <summary>Starts the endpoint a second from now; null when it could not start (said in one line: the run goes on).</summary>
    public static Task<RunHttpServer?> StartSoon(EvolverRuntime runtime, RunDirectory run, string runsRoot, IActorRef steward, RunMetrics metrics, Action<string> say,
        MemberImport? import = null) =>
        StartSoon(runtime, () => new RunHttpServer.Node(runtime.RunId, runsRoot, steward, metrics, ControlToken.GetOrCreate(run), import),
            "page, /metrics and control API", "the run", say, started: () => steward.Tell(RefreshStatus.Instance)); // status.json's "http"

    /// <summary>
    /// A worker node's endpoint (docs/architecture.md §6): the page (its own evaluators, the run's progress through the
    /// steward), /metrics of its evaluators, no write calls. Null when it could not start (said in one line).
    /// </summary>
    public static Task<RunHttpServer?> StartForWorkerSoon(EvolverRuntime runtime, string runsRoot, IActorRef steward, RunMetrics metrics, Action<string> say) =>
        StartSoon(runtime, () => new RunHttpServer.Node(runtime.RunId, runsRoot, steward, metrics, Token: null), "page and /metrics of its evaluators", "the node", say);

    private static Task<RunHttpServer?> StartSoon(EvolverRuntime runtime, Func<RunHttpServer.Node> node, string serves, string goesOn, Action<string> say,
        Action? started = null) =>
        Task.Delay(StartDelay).ContinueWith(async _ =>
        {
            try
            {
                var server = await RunHttpServer.StartAsync(runtime.Settings.Http, node(), say).ConfigureAwait(false);
                runtime.HttpAddress = server.Address;
                started?.Invoke();
                say($"{serves} at http://{server.Address}/");
                return server;
            }
            catch (Exception e) when (e is EvolverException or IOException or InvalidOperationException)
            {
                say($"the HTTP endpoint could not start: {e.Message.Split('\n')[0]}; {goesOn} goes on without its page");
                return (RunHttpServer?)null;
            }
        }, TaskScheduler.Default).Unwrap();

    /// <summary>Adds a progress reading to the page's chart (once the endpoint runs).</summary>
    public static void Observe(Task<RunHttpServer?>? http, RunProgress progress)
    {
        if (http is { IsCompletedSuccessfully: true, Result: { } server })
        {
            server.History.Observe(progress);
        }
    }

    public static async Task StopAsync(Task<RunHttpServer?>? http)
    {
        if (http is not null && await http.ConfigureAwait(false) is { } server)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
