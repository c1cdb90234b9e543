using Akka.Actor;
using Akka.Management.Cluster.Bootstrap;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// Cluster bootstrap's join decision by role, not by address (docs/architecture.md §4, "Joining"). Akka's default lets
/// the node with the lowest contact point form a new cluster, which could be a worker; here only `evolver run` (the
/// node with <c>new-cluster-enabled</c>) forms one, and every node joins a cluster that a contact point reports.
/// </summary>
public sealed class RoleJoinDecider(ActorSystem system, ClusterBootstrapSettings settings) : LowestAddressJoinDecider(system, settings)
{
    public override Task<IJoinDecision> Decide(SeedNodesInformation info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.HasSeedNodes)
        {
            // A running cluster (a standby may hold the run): join it rather than found a second one on the same journal.
            return base.Decide(info);
        }
        // The founder waits for the stable margin so that a cluster it has not heard of yet can still answer; the
        // others keep asking until the founder's endpoint reports the cluster.
        var form = Settings.NewClusterEnabled && HasEnoughContactPoints(info) && IsPastStableMargin(info);
        return Task.FromResult(form ? (IJoinDecision)JoinSelf.Instance : KeepProbing.Instance);
    }
}
