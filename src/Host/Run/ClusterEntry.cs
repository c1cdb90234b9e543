using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Run;

/// <summary>
/// How `evolver node` finds the cluster it joins (docs/architecture.md §4, "Joining"): with <c>cluster.bootstrap</c> through
/// its contact points, else by the coordinator's address (cluster.json or --join), which the launchers handle.
/// </summary>
internal static class ClusterEntry
{
    /// <summary>
    /// How long a bootstrapping node waits to be Up: longer than a join by address, since the coordinator forms the
    /// cluster only after its stable margin and nodes of a deployment may start in any order.
    /// </summary>
    public static readonly TimeSpan BootstrapJoinTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// With bootstrap configured: a record without an address (the node joins whatever cluster its contact points report)
    /// naming the secret to use when the config names none. Null without bootstrap.
    /// </summary>
    public static CoordinatorRecord? BootstrapOrNull(ClusterSettings cluster, string? join, RunDirectory run)
    {
        if (cluster.Bootstrap is not { } bootstrap)
        {
            return null;
        }
        if (join is not null)
        {
            throw new EvolverException($"--join: not with cluster.bootstrap in {bootstrap.Source} (the node finds the cluster through {bootstrap.Describe()})");
        }
        // On a shared run directory the run's own secret (or the one the coordinator recorded) serves, as without bootstrap.
        var secret = run.RunningCoordinator()?.SecretPath ?? run.ClusterSecretPath;
        if (cluster.SecretPath is null && !File.Exists(secret))
        {
            throw new EvolverException($"run '{run.RunId}': no cluster secret yet ({secret}): set cluster.secret to a file from `evolver secret` "
                + "in every node's config, or start the coordinator first (it makes the run's own)");
        }
        return new CoordinatorRecord("", secret);
    }

    /// <summary>
    /// The coordinator's wait with bootstrap: Up within <see cref="BootstrapJoinTimeout"/> (it formed the cluster, or joined
    /// a running one), else one line. Unlike a joining node it does not stop on a refused handshake: a stranger's
    /// connection is reported and refused (RunLauncher), not this node's problem.
    /// </summary>
    public static async Task FormOrGiveUpAsync(Microsoft.Extensions.Hosting.IHost host, BootstrapSettings bootstrap)
    {
        var system = host.Services.GetService(typeof(Akka.Actor.ActorSystem)) as Akka.Actor.ActorSystem
            ?? throw new InvalidOperationException("the host has no actor system");
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        var endpoint = EndpointFailed(system);
        var first = await Task.WhenAny(up.Task, endpoint, Task.Delay(BootstrapJoinTimeout)).ConfigureAwait(false);
        if (first == up.Task)
        {
            return;
        }
        await host.StopAsync().ConfigureAwait(false);
        if (first == endpoint)
        {
            await endpoint.ConfigureAwait(false);
        }
        throw new EvolverException($"the coordinator could neither form nor join {Describe(null, bootstrap)} within {BootstrapJoinTimeout.TotalSeconds:F0} s "
            + $"(is its own management endpoint among the contact points, and do {bootstrap.RequiredContactPoints} of them answer? see cluster.bootstrap in {bootstrap.Source})");
    }

    /// <summary>Completes only with the management endpoint's failure to listen (one line); never when it listens.</summary>
    public static async Task EndpointFailed(Akka.Actor.ActorSystem system)
    {
        await Actors.Hosting.BootstrapEndpoint.Get(system).Started.ConfigureAwait(false);
        await Task.Delay(Timeout.Infinite).ConfigureAwait(false);
    }

    /// <summary>The seed address to join, or null: through cluster bootstrap.</summary>
    public static string? SeedOf(CoordinatorRecord coordinator) => coordinator.Address.Length == 0 ? null : coordinator.Address;

    /// <summary>What a node joins, for its messages.</summary>
    public static string Describe(string? seed, BootstrapSettings? bootstrap) =>
        seed ?? $"the cluster through bootstrap ({bootstrap?.DiscoveryName} discovery: {bootstrap?.Describe()})";
}
