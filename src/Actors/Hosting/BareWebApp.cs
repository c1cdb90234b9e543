using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// The one way a node builds an HTTP server (bootstrap endpoint, file server, run endpoint): Kestrel on one address,
/// routing, and nothing else — no configuration files, environment overrides or console logging, like the actor host.
/// </summary>
public static class BareWebApp
{
    public static WebApplicationBuilder CreateBuilder(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddLogging();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        return builder;
    }
}
