using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using EvolverActors.Actors.Hosting;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EvolverActors.Host.Http;

/// <summary>
/// A run node's HTTP endpoint (docs/architecture.md §6), Kestrel inside the node's process: the live page at <c>/</c>,
/// Prometheus metrics at <c>/metrics</c> (OpenTelemetry), <c>GET /api/status</c> and <c>/api/history</c>, and the
/// control calls <c>POST /api/pause|resume|stop|budget|admit|retire</c>, which answer only a request with the run's bearer token.
/// </summary>
internal sealed class RunHttpServer : IAsyncDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private readonly WebApplication _app;
    private int _disposed;

    private RunHttpServer(WebApplication app, string address, RunHistory history)
    {
        _app = app;
        Address = address;
        History = history;
    }

    /// <summary>Where it listens, <c>host:port</c>.</summary>
    public string Address { get; }

    /// <summary>The best dev score against evaluations and time, fed by the node's progress loop.</summary>
    public RunHistory History { get; }

    /// <summary>
    /// What the server needs of its node. <c>Token</c>: the run's control token (null on a worker node, whose endpoint
    /// takes no write call: those go to the coordinator's); <c>Import</c> brings a checkpoint into the run before it is
    /// admitted (null: this node admits none).
    /// </summary>
    public sealed record Node(string RunId, string RunsRoot, IActorRef Steward, RunMetrics Metrics, string? Token, MemberImport? Import = null);

    /// <summary>An admission loads, checks and scores a whole model: it may take minutes for a large one.</summary>
    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Starts the endpoint on <paramref name="settings"/>' address. A default port another process holds is replaced by a
    /// free one (<paramref name="said"/> hears it); a configured address that cannot be bound is one line (EvolverException).
    /// </summary>
    public static async Task<RunHttpServer> StartAsync(HttpSettings settings, Node node, Action<string> said)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            return await StartOnAsync(settings.Bind, settings, node).ConfigureAwait(false);
        }
        catch (IOException e) when (!settings.BindConfigured)
        {
            said($"http: {settings.Bind} is taken ({e.Message.Split('\n')[0]}); listening on a free port instead (set http.bind to choose)");
            return await StartOnAsync(new IPEndPoint(settings.Bind.Address, 0), settings, node).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new EvolverException($"http.bind: cannot listen on {settings.Bind} ({e.Message.Split('\n')[0]})");
        }
    }

    private static async Task<RunHttpServer> StartOnAsync(IPEndPoint endpoint, HttpSettings settings, Node node)
    {
        var builder = BareWebApp.CreateBuilder(endpoint);
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("evolver", serviceInstanceId: node.RunId)).WithMetrics(metrics =>
        {
            metrics.AddMeter(node.Metrics.MeterName).AddPrometheusExporter(ConfigurePrometheus);
            if (settings.OtlpEndpoint is { } otlp)
            {
                metrics.AddOtlpExporter(o => o.Endpoint = otlp);
            }
        });
        var app = builder.Build();
        var history = new RunHistory();
        var expected = node.Token is { } token ? new BearerToken(token) : null;
        string? address = null;

        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/", () => Results.Text(RunPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/api/status", async () => Results.Text((await StatusAsync(node, address).ConfigureAwait(false)).ToJsonString(), "application/json"));
        app.MapGet("/api/history", () => Results.Text(history.ToJson().ToJsonString(), "application/json"));
        app.MapPost("/api/pause", (Delegate)((HttpContext context) => Control(context, expected, node, address, new PauseRun(true))));
        app.MapPost("/api/resume", (Delegate)((HttpContext context) => Control(context, expected, node, address, new PauseRun(false))));
        app.MapPost("/api/stop", (Delegate)((HttpContext context) => Control(context, expected, node, address, new StopRun("stopped through the control API"))));
        app.MapPost("/api/budget", (Delegate)(async (HttpContext context) =>
        {
            ChangeBudget change;
            try
            {
                change = BudgetRequest.Parse(await JsonNode.ParseAsync(context.Request.Body).ConfigureAwait(false));
            }
            catch (Exception e) when (e is JsonException or EvolverException)
            {
                return expected is null ? WorkerNode() : Authorized(context, expected) ? Results.BadRequest(new { error = e.Message }) : Unauthorized(context);
            }
            return await Control(context, expected, node, address, change).ConfigureAwait(false);
        }));
        app.MapPost("/api/admit", (Delegate)(async (HttpContext context) =>
            await Membership(context, expected, node, address, body => Admission(node, body)).ConfigureAwait(false)));
        app.MapPost("/api/retire", (Delegate)(async (HttpContext context) =>
            await Membership(context, expected, node, address, body => MembershipRequest.Retirement(body)).ConfigureAwait(false)));
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException(e.Message, e);
        }
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        address = $"{bound.Host}:{bound.Port}";
        return new RunHttpServer(app, address, history);
    }

    private static void ConfigurePrometheus(PrometheusAspNetCoreOptions options)
    {
        options.ScopeInfoEnabled = false; // each run's meter has a name of its own: not a label worth scraping
        options.ScrapeResponseCacheDurationMilliseconds = 0; // what status says now, not 300 ms ago
    }

    private static async Task<JsonObject> StatusAsync(Node node, string? address)
    {
        var progress = await node.Steward.Ask<RunProgress>(GetRunProgress.Instance, AskTimeout).ConfigureAwait(false);
        var recent = await node.Steward.Ask<RecentAcceptances>(GetRecentAcceptances.Instance, AskTimeout).ConfigureAwait(false);
        return RunStatusJson.Build(node.RunId, address, progress, node.Metrics, recent.Accepted, node.RunsRoot, node.Import?.StatisticsOption ?? "");
    }

    /// <summary>A write call: refused without the run's token; else the steward does it and the answer is the new status.</summary>
    private static async Task<IResult> Control(HttpContext context, BearerToken? expected, Node node, string? address, object command)
    {
        if (expected is null)
        {
            return WorkerNode();
        }
        if (!Authorized(context, expected))
        {
            return Unauthorized(context);
        }
        if (command is StopRun)
        {
            node.Steward.Tell(command);
            return Results.Json(new { stopping = true });
        }
        await node.Steward.Ask<RunProgress>(command, AskTimeout).ConfigureAwait(false);
        return Results.Text((await StatusAsync(node, address).ConfigureAwait(false)).ToJsonString(), "application/json");
    }

    /// <summary>
    /// <c>POST /api/admit</c> and <c>/api/retire</c>: the body becomes the steward's command (an admission imports the
    /// checkpoint first); the answer names the event stored, or the steward's refusal (409) in one line.
    /// </summary>
    private static async Task<IResult> Membership(HttpContext context, BearerToken? expected, Node node, string? address, Func<JsonNode?, object> command)
    {
        if (expected is null)
        {
            return WorkerNode();
        }
        if (!Authorized(context, expected))
        {
            return Unauthorized(context);
        }
        object message;
        try
        {
            message = command(await JsonNode.ParseAsync(context.Request.Body).ConfigureAwait(false));
        }
        catch (Exception e) when (e is JsonException or EvolverException or IOException)
        {
            return Results.BadRequest(new { error = e.Message.Split('\n')[0] });
        }
        var answer = await node.Steward.Ask<MembershipAnswer>(message, MembershipTimeout).ConfigureAwait(false);
        if (answer.Refused is { } refused)
        {
            return Results.Json(new { error = refused }, statusCode: StatusCodes.Status409Conflict);
        }
        var status = await StatusAsync(node, address).ConfigureAwait(false);
        status["change"] = MembershipRequest.Describe(answer.Change!);
        return Results.Text(status.ToJsonString(), "application/json");
    }

    private static AdmitMember Admission(Node node, JsonNode? body)
    {
        var (model, name, statistics) = MembershipRequest.Admission(body);
        var import = node.Import ?? throw new EvolverException("this node does not admit members (it is not the run's coordinator)");
        var imported = import.Import(model, name, statistics);
        return new AdmitMember(imported.WeightsId, imported.Name, imported.Source, imported.ContentHash, imported.StartingId, imported.Statistics);
    }

    private static bool Authorized(HttpContext context, BearerToken expected) => expected.Presented(context);

    private static IResult WorkerNode() => Results.Json(
        new { error = "this is a worker node's endpoint: control calls go to the coordinator's (evolver status shows its http)" },
        statusCode: StatusCodes.Status403Forbidden);

    private static IResult Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Json(new { error = "this call needs the run's control token (Authorization: Bearer …; control.token in the run directory)" },
            statusCode: StatusCodes.Status401Unauthorized);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
