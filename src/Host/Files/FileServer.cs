using System.Net;
using EvolverActors.Tensors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EvolverActors.Host.Files;

/// <summary>
/// The coordinator's side channel for weights (docs/architecture.md §4): an HTTP server (Kestrel) that hands out the
/// files of its <see cref="FileCatalog"/> by content hash, with range requests (ASP.NET Core's own range processing,
/// so a node resumes an interrupted download), to callers that present the run's bearer token. Routes:
/// <c>GET /v1/members/{sha256}</c> (a member's <see cref="MemberListing"/>), <c>GET /v1/files/{sha256}</c> (a file's bytes),
/// <c>GET /v1/run</c> (the run's fingerprint, <c>run.json</c>) and <c>GET /v1/snapshots</c> (the population snapshots kept
/// now, a <see cref="SnapshotListing"/>; their files come by <c>/v1/files/</c> too).
/// </summary>
internal sealed class FileServer : IAsyncDisposable
{
    public const string MembersRoute = "/v1/members/";
    public const string FilesRoute = "/v1/files/";
    public const string RunRoute = "/v1/run";
    public const string SnapshotsRoute = "/v1/snapshots";

    private readonly WebApplication _app;
    private int _disposed;

    private FileServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    /// <summary>Starts a server on <paramref name="endpoint"/> (port 0: the kernel picks one).</summary>
    public static async Task<FileServer> StartAsync(IPEndPoint endpoint, FileCatalog catalog, string token)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(catalog);
        // An empty builder: no configuration files, environment overrides or console logging (like the actor host).
        var app = Actors.Hosting.BareWebApp.CreateBuilder(endpoint).Build();
        var bearer = new Http.BearerToken(token);
        app.Use(async (context, next) =>
        {
            if (!bearer.Presented(context))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return;
            }
            await next(context).ConfigureAwait(false);
        });
        app.MapGet(MembersRoute + "{sha256}", (string sha256) =>
            !ContentAddress.IsSha256(sha256) ? NotAHash()
            : catalog.Listing(sha256) is { } listing ? Results.Json(listing)
            : Results.NotFound());
        app.MapGet(FilesRoute + "{sha256}", (string sha256) =>
            !ContentAddress.IsSha256(sha256) ? NotAHash()
            : catalog.PathOf(sha256) is { } path && File.Exists(path) ? Results.File(path, "application/octet-stream", enableRangeProcessing: true)
            : Results.NotFound()); // a snapshot's file may have been collected since it was listed
        app.MapGet(RunRoute, () => catalog.FingerprintPath is { } path && File.Exists(path)
            ? Results.File(path, "application/json")
            : Results.NotFound());
        app.MapGet(SnapshotsRoute, () => Results.Json(catalog.Snapshots()));
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new EvolverException($"--files-listen: cannot listen on {endpoint} ({e.Message.Split('\n')[0]})");
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FileServer(app, Advertised(bound));
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

    private static IResult NotAHash() => Results.BadRequest("not a content hash (64 lower-case hex digits)");

    /// <summary>The URL nodes use: a wildcard address is advertised as this host's name.</summary>
    private static string Advertised(string bound)
    {
        var uri = new Uri(bound.Replace("[::]", "0.0.0.0", StringComparison.Ordinal));
        return uri.Host is "0.0.0.0" ? $"http://{Dns.GetHostName()}:{uri.Port}" : $"http://{uri.Authority}";
    }
}
