using System.Globalization;
using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Actors.Run;

/// <summary>Where cluster bootstrap finds the other nodes' management endpoints.</summary>
public enum BootstrapDiscovery
{
    /// <summary>A fixed list of <c>host:port</c> (<c>cluster.bootstrap.contact-points</c>).</summary>
    Config,

    /// <summary>The Kubernetes API: the pods that match a label selector, at their port named <c>management</c>.</summary>
    KubernetesApi,
}

/// <summary>
/// How nodes find each other through Akka.Management cluster bootstrap (<c>evolver.run.cluster.bootstrap</c>;
/// docs/architecture.md §4, "Joining"). Absent: the coordinator joins itself and nodes join the address in the run
/// directory's cluster.json (or --join). Present: every node runs a management endpoint that answers which nodes form the
/// cluster, and joins by asking the contact points; only `evolver run` may form a new cluster.
/// </summary>
public sealed record BootstrapSettings
{
    /// <summary>The service name contact points are looked up under (config discovery's service, Kubernetes' label value).</summary>
    public const string ServiceName = "evolver";

    /// <summary>The container port name Kubernetes API discovery takes the management port from.</summary>
    public const string KubernetesPortName = "management";

    public const string DefaultPodLabelSelector = "app.kubernetes.io/name=evolver";

    /// <summary>The config file the keys came from, for later one-line errors.</summary>
    public string Source { get; init; } = "";

    public BootstrapDiscovery Discovery { get; init; }

    /// <summary>Config discovery: the management endpoints (<c>host:port</c>) to ask.</summary>
    public IReadOnlyList<string> ContactPoints { get; init; } = [];

    /// <summary>Contact points that must answer (none in a cluster) before the coordinator forms a new cluster.</summary>
    public int RequiredContactPoints { get; init; } = 1;

    /// <summary>How long the discovered contact points must stay the same before the coordinator forms a new cluster.</summary>
    public TimeSpan StableMargin { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The address this node's management endpoint binds (loopback unless configured; it answers only under a path derived from the secret).</summary>
    public string ManagementHostname { get; init; } = ClusterSettings.DefaultHostname;

    /// <summary>The port it binds; 0: one the kernel picks (a node nobody needs to ask, such as a worker on one machine).</summary>
    public int ManagementPort { get; init; }

    /// <summary>Kubernetes API discovery: which pods are contact points.</summary>
    public string PodLabelSelector { get; init; } = DefaultPodLabelSelector;

    /// <summary>Kubernetes API discovery: their namespace (null: this pod's own).</summary>
    public string? PodNamespace { get; init; }

    /// <summary>The <c>cluster.bootstrap</c> keys of <paramref name="run"/>, or null when the section is absent.</summary>
    public static BootstrapSettings? Parse(Settings run)
    {
        // Every key is read whatever the discovery, so that a misspelled one is refused (Settings.RequireAllKnown).
        var discoveryText = run.OptionalText("cluster.bootstrap.discovery");
        var contactPoints = run.OptionalList("cluster.bootstrap.contact-points");
        var required = run.Int("cluster.bootstrap.required-contact-points", 1, 1, 64);
        var stableMargin = run.Duration("cluster.bootstrap.stable-margin", TimeSpan.FromMinutes(5)) ?? TimeSpan.FromSeconds(5);
        var managementHostname = run.Text("cluster.bootstrap.management-hostname", ClusterSettings.DefaultHostname);
        var managementPort = run.Int("cluster.bootstrap.management-port", 0, 0, 65535);
        var selector = run.OptionalText("cluster.bootstrap.pod-label-selector");
        var podNamespace = run.OptionalText("cluster.bootstrap.pod-namespace");
        if (!run.Has("cluster.bootstrap"))
        {
            return null;
        }
        if (!run.IsSection("cluster.bootstrap"))
        {
            throw run.Problem("cluster.bootstrap", "must be a section { discovery = config | kubernetes-api, ... }");
        }
        var discovery = discoveryText?.ToLowerInvariant() switch
        {
            null => throw run.Problem("cluster.bootstrap.discovery", "is required with cluster.bootstrap: use config or kubernetes-api"),
            "config" => BootstrapDiscovery.Config,
            "kubernetes-api" => BootstrapDiscovery.KubernetesApi,
            _ => throw run.Problem("cluster.bootstrap.discovery", $"= '{discoveryText}' is unknown: use config | kubernetes-api"),
        };
        if (discovery == BootstrapDiscovery.Config)
        {
            if (contactPoints is not { Count: > 0 })
            {
                throw run.Problem("cluster.bootstrap.contact-points", "is required with discovery = config: list the management endpoints as [\"HOST:PORT\", ...]");
            }
            foreach (var point in contactPoints)
            {
                RequireContactPoint(run, point);
            }
        }
        else if (contactPoints is not null)
        {
            throw run.Problem("cluster.bootstrap.contact-points", "is for discovery = config (kubernetes-api finds the pods by pod-label-selector)");
        }
        if (discovery != BootstrapDiscovery.KubernetesApi && (selector ?? podNamespace) is not null)
        {
            throw run.Problem(selector is null ? "cluster.bootstrap.pod-namespace" : "cluster.bootstrap.pod-label-selector", "is for discovery = kubernetes-api");
        }
        if (selector is not null && (selector.Length == 0 || !selector.Contains('=', StringComparison.Ordinal)))
        {
            throw run.Problem("cluster.bootstrap.pod-label-selector", $"= '{selector}' is not a label selector such as \"{DefaultPodLabelSelector}\"");
        }
        if (Uri.CheckHostName(managementHostname) == UriHostNameType.Unknown)
        {
            throw run.Problem("cluster.bootstrap.management-hostname", $"= '{managementHostname}' is neither an IP address nor a host name");
        }
        if (ClusterSettings.IsWildcard(managementHostname) && run.OptionalText("cluster.public-hostname") is null)
        {
            throw run.Problem("cluster.bootstrap.management-hostname", $"= '{managementHostname}' binds every interface: set cluster.public-hostname to the address other nodes reach this one at");
        }
        return new BootstrapSettings
        {
            Source = run.Source,
            Discovery = discovery,
            ContactPoints = contactPoints ?? [],
            RequiredContactPoints = required,
            StableMargin = stableMargin,
            ManagementHostname = managementHostname,
            ManagementPort = managementPort,
            PodLabelSelector = selector ?? DefaultPodLabelSelector,
            PodNamespace = podNamespace,
        };
    }

    /// <summary>
    /// A coordinator (or a standby) is a contact point other nodes must be able to ask, so its management endpoint needs a
    /// port they know: one line naming the key otherwise.
    /// </summary>
    public void RequireFixedManagementPort(string role)
    {
        if (ManagementPort == 0)
        {
            throw new Tensors.EvolverException($"{Source}: evolver.run.cluster.bootstrap.management-port = 0: {role}'s management endpoint is how the "
                + "other nodes find the cluster: give it a fixed port"
                + (Discovery == BootstrapDiscovery.Config ? " and list HOST:PORT in cluster.bootstrap.contact-points" : $" (the container port named {KubernetesPortName})"));
        }
    }

    /// <summary>The discovery as the config names it.</summary>
    public string DiscoveryName => Discovery == BootstrapDiscovery.Config ? "config" : "kubernetes-api";

    /// <summary>What this node asks, for messages: the contact points, or the pods' label selector.</summary>
    public string Describe() => Discovery == BootstrapDiscovery.Config
        ? $"contact points {string.Join(", ", ContactPoints)}"
        : $"pods {PodLabelSelector}{(PodNamespace is null ? "" : $" in {PodNamespace}")}, port {KubernetesPortName}";

    private static void RequireContactPoint(Settings run, string point)
    {
        var colon = point.LastIndexOf(':');
        var host = colon > 0 ? point[..colon].Trim('[', ']') : "";
        if (colon <= 0 || !int.TryParse(point[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
            || Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            throw run.Problem("cluster.bootstrap.contact-points", $"has '{point}', which is not HOST:PORT (a node's management endpoint, port 1-65535)");
        }
    }
}
