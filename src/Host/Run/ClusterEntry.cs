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
