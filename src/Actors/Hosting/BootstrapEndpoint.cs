using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using EvolverActors.Actors.Run;
using EvolverActors.Tensors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// A node's management endpoint for cluster bootstrap (docs/architecture.md §4, "Joining"): the one route other nodes'
/// bootstrap asks, <c>GET /bootstrap/seed-nodes</c>, answered with the JSON Akka.Management writes (its own types and
/// serializer), on Kestrel. Akka.Management's own HTTP server (Ceen.Httpd through Akka.Http.Shim) does not start with the
/// Ceen.Httpd that NuGet serves here (a missing method), and this also keeps the endpoint to that one read-only route.
/// The route sits under the cluster secret's route token (<see cref="ClusterSecret.BootstrapRouteToken"/>, which the
/// probes put before it as Akka.Management's base path): a caller without the secret gets 404 for every path.
/// </summary>
public sealed class BootstrapEndpoint : IExtension
{
    /// <summary>As Akka.Management: a joining node needs a few seed nodes, not the whole membership.</summary>
    private const int MaxSeedNodes = 5;

    private readonly TaskCompletionSource<Uri> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The endpoint's base URI once it listens; fails with one line when it cannot (its port taken, say).</summary>
    public Task<Uri> Started => _started.Task;

    public static BootstrapEndpoint Get(ActorSystem system) => system.WithExtension<BootstrapEndpoint, Provider>();

    /// <summary>Listens on <c>management-hostname:management-port</c> until the actor system terminates.</summary>
    internal async Task<Uri?> StartAsync(ActorSystem system, BootstrapSettings settings, string? publicHostname, string routeToken)
    {
        var address = IPAddress.TryParse(settings.ManagementHostname, out var parsed) ? parsed : Dns.GetHostAddresses(settings.ManagementHostname).First();
        var app = BareWebApp.CreateBuilder(new IPEndPoint(address, settings.ManagementPort)).Build();
        app.MapGet(RoutePath(routeToken), () => Results.Content(SeedNodesJson(Cluster.Get(system)), "application/json"));
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            _started.TrySetException(new EvolverException($"{settings.Source}: evolver.run.cluster.bootstrap.management-port: cannot listen on "
                + $"{settings.ManagementHostname}:{settings.ManagementPort} ({e.Message.Split('\n')[0]})"));
            return null;
        }
        system.RegisterOnTermination(() => app.DisposeAsync().AsTask().GetAwaiter().GetResult());
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var host = Run.ClusterSettings.IsWildcard(settings.ManagementHostname) ? publicHostname! : settings.ManagementHostname;
        var self = new UriBuilder("http", host, bound.Port).Uri;
        _started.TrySetResult(self);
        return self;
    }

    /// <summary>
    /// The path the probes ask under base path <paramref name="routeToken"/>, as Akka.Management builds it (it appends
    /// <c>bootstrap/seed-nodes</c> to the base URI without a slash: <c>/&lt;token&gt;bootstrap/seed-nodes</c>).
    /// </summary>
    internal static string RoutePath(string routeToken) =>
        new Uri(ClusterBootstrapRequests.BootstrapSeedNodes(new Uri($"http://contact-point/{routeToken}"))).AbsolutePath;

    /// <summary>What Akka.Management's route answers: this node, and up to five members that are reachable and joining or up.</summary>
    private static string SeedNodesJson(Cluster cluster)
    {
        var self = cluster.SelfMember;
        if (self.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed)
        {
            return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.UniqueAddress.Address, []));
        }
        var state = cluster.State;
        var members = state.Members
            .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
            .Take(MaxSeedNodes)
            .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToImmutableList();
        return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.UniqueAddress.Address, members));
    }

    private sealed class Provider : ExtensionIdProvider<BootstrapEndpoint>
    {
        public override BootstrapEndpoint CreateExtension(ExtendedActorSystem system) => new();
    }
}
