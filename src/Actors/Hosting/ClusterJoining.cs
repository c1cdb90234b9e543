using System.Text.RegularExpressions;
using Akka.Cluster.Hosting;
using Akka.Discovery.Config.Hosting;
using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Dsl;
using EvolverActors.Actors.Run;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// How a node enters its run's cluster (docs/architecture.md §4, "Joining"): without <c>cluster.bootstrap</c> the
/// founder joins itself and the others join a seed address (cluster.json, --join); with it every node runs an
/// Akka.Management endpoint and finds the cluster through cluster bootstrap, and only the founder may form one.
/// </summary>
internal static partial class ClusterJoining
{
    /// <summary>Workers ask again every second (Akka's default is 5 s) so that they join soon after the coordinator forms the cluster.</summary>
    private const string BootstrapHocon = """
        akka.management.cluster.bootstrap.contact-point.probe-interval = 1s
        """;

    /// <param name="builder">The node's Akka configuration.</param>
    /// <param name="cluster">Its cluster settings (with or without <c>cluster.bootstrap</c>).</param>
    /// <param name="role">Its role.</param>
    /// <param name="seed">Without bootstrap: the node to join (null: this node founds the cluster by joining itself).</param>
    /// <param name="founds">Whether this node may form a new cluster (`evolver run`); the others only join.</param>
    /// <param name="secret">The cluster's secret: the bootstrap endpoint answers, and the probes ask, under its route token.</param>
    public static AkkaConfigurationBuilder WithClusterJoin(this AkkaConfigurationBuilder builder, ClusterSettings cluster, string role, string? seed, bool founds,
        ClusterSecret secret)
    {
        if (cluster.Bootstrap is not { } bootstrap)
        {
            builder.WithClustering(new ClusterOptions { SeedNodes = seed is null ? [] : [seed], Roles = [role] });
            return founds
                ? builder.AddStartup((system, _) => Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress))
                : builder;
        }
        // No seed nodes: cluster bootstrap steps aside when any are configured.
        builder.WithClustering(new ClusterOptions { SeedNodes = [], Roles = [role] })
            .AddHocon(BootstrapHocon, HoconAddMode.Prepend)
            .AddHocon($"akka.management.http.base-path = \"{secret.BootstrapRouteToken}\"", HoconAddMode.Prepend);
        builder = bootstrap.Discovery == BootstrapDiscovery.Config
            ? builder.WithConfigDiscovery(new ConfigServiceDiscoveryOptions
            {
                Services = [new Service { Name = BootstrapSettings.ServiceName, Endpoints = [.. bootstrap.ContactPoints] }],
            })
            : builder.WithKubernetesDiscovery(new KubernetesDiscoveryOptions
            {
                PodLabelSelector = bootstrap.PodLabelSelector,
                PodNamespace = bootstrap.PodNamespace,
            });
        return builder.WithClusterBootstrap(options =>
        {
            options.NewClusterEnabled = founds;
            options.ContactPointDiscovery.ServiceName = BootstrapSettings.ServiceName;
            options.ContactPointDiscovery.RequiredContactPointsNr = bootstrap.RequiredContactPoints;
            options.ContactPointDiscovery.StableMargin = bootstrap.StableMargin;
            // Workers started later than the coordinator, or never, must not keep it from forming the cluster.
            options.ContactPointDiscovery.ContactWithAllContactPoints = false;
            // Contact points carry their own ports (contact-points, the pods' named port); Akka would keep only those on
            // its default management port (8558).
            options.ContactPoint.FilterOnFallbackPort = false;
            if (bootstrap.Discovery == BootstrapDiscovery.KubernetesApi)
            {
                options.ContactPointDiscovery.PortName = BootstrapSettings.KubernetesPortName;
            }
            options.JoinDecider.Class = typeof(RoleJoinDecider);
        }, autoStart: false)
            // Our endpoint serves the bootstrap route (BootstrapEndpoint); bootstrap starts once it listens.
            .AddStartup(async (system, _) =>
            {
                if (await BootstrapEndpoint.Get(system).StartAsync(system, bootstrap, cluster.PublicHostname, secret.BootstrapRouteToken).ConfigureAwait(false) is { } self)
                {
                    var clusterBootstrap = ClusterBootstrap.Get(system);
                    clusterBootstrap.Routes(ManagementRouteProviderSettings.Create(self, readOnly: true)); // sets its self contact point
                    await clusterBootstrap.Start().ConfigureAwait(false);
                }
            });
    }

    /// <summary>
    /// The actors that probe contact points: they log a contact point that does not answer (yet), a worker not started
    /// or the coordinator still loading, as a warning with a stack trace on every probe, though it is the normal course of joining.
    /// </summary>
    [GeneratedRegex("/bootstrapCoordinator/contactPointProbe-")]
    public static partial Regex QuietLogSources();
}
