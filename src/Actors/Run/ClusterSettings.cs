using System.Net;
using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Actors.Run;

/// <summary>
/// Where a node's remoting listens and which secret its cluster shares (<c>evolver.run.cluster</c>; docs/architecture.md
/// §4, "Security"). Remoting always runs mutual TLS with the secret, so an address other than loopback exposes nothing
/// that answers without it. They may change between starts of a run (not part of its identity).
/// </summary>
public sealed record ClusterSettings
{
    public const string DefaultHostname = "127.0.0.1";

    /// <summary>The address remoting binds (default loopback: other hosts cannot reach the node).</summary>
    public string Hostname { get; init; } = DefaultHostname;

    /// <summary>The port remoting binds; 0: one the kernel picks.</summary>
    public int Port { get; init; }

    /// <summary>The address other nodes reach this one at when it differs from <see cref="Hostname"/> (NAT, containers, 0.0.0.0).</summary>
    public string? PublicHostname { get; init; }

    /// <summary>The cluster secret's PKCS#12 file (absolute), or null: the run's own, <c>cluster.p12</c> in its run directory.</summary>
    public string? SecretPath { get; init; }

    /// <summary>How nodes find each other through cluster bootstrap (<c>cluster.bootstrap</c>), or null: self-join, cluster.json or --join.</summary>
    public BootstrapSettings? Bootstrap { get; init; }

    /// <summary>Parses the <c>cluster</c> keys of <paramref name="run"/>; each problem is one line naming the key.</summary>
    public static ClusterSettings Parse(Settings run)
    {
        var hostname = run.Text("cluster.hostname", DefaultHostname);
        RequireHost(run, "cluster.hostname", hostname);
        var publicHostname = run.OptionalText("cluster.public-hostname");
        if (publicHostname is not null)
        {
            RequireHost(run, "cluster.public-hostname", publicHostname);
            if (IsWildcard(publicHostname))
            {
                throw run.Problem("cluster.public-hostname", $"= '{publicHostname}' is not an address other nodes can reach");
            }
        }
        else if (IsWildcard(hostname))
        {
            throw run.Problem("cluster.hostname", $"= '{hostname}' binds every interface: set cluster.public-hostname to the address other nodes reach this one at");
        }
        var secret = run.OptionalText("cluster.secret");
        if (secret is { Length: 0 })
        {
            throw run.Problem("cluster.secret", "is empty: give the path of a file from `evolver secret`, or leave the key out (the run's own secret)");
        }
        return new ClusterSettings
        {
            Hostname = hostname,
            Port = run.Int("cluster.port", 0, 0, 65535),
            PublicHostname = publicHostname,
            SecretPath = secret is null ? null : Path.GetFullPath(secret),
            Bootstrap = BootstrapSettings.Parse(run),
        };
    }

    /// <summary>Whether <paramref name="host"/> is a loopback address (by name or number): only this machine can reach it.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    internal static bool IsWildcard(string host) =>
        IPAddress.TryParse(host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any));

    private static void RequireHost(Settings run, string key, string host)
    {
        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            throw run.Problem(key, $"= '{host}' is neither an IP address nor a host name");
        }
    }
}
