using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using EvolverActors.Actors.Messages;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// Follows which node hosts the singletons: the oldest Up member with the coordinator role, as Akka's singleton
/// manager places them. When that node is removed from the cluster (lost or left), it publishes
/// <see cref="SingletonsMoved"/> naming the next oldest.
/// </summary>
internal sealed class SingletonHomeWatch : ReceiveActor
{
    private ImmutableSortedSet<Member> _coordinators = ImmutableSortedSet.Create(Member.AgeOrdering);

    public SingletonHomeWatch()
    {
        Receive<ClusterEvent.CurrentClusterState>(state => _coordinators = ImmutableSortedSet.CreateRange(Member.AgeOrdering,
            state.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(EvolverHosting.Role))));
        Receive<ClusterEvent.MemberUp>(m =>
        {
            if (m.Member.HasRole(EvolverHosting.Role))
            {
                _coordinators = _coordinators.Add(m.Member);
            }
        });
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            var home = _coordinators.FirstOrDefault();
            _coordinators = _coordinators.Remove(m.Member);
            if (home is not null && home.Equals(m.Member) && _coordinators.FirstOrDefault() is { } next)
            {
                Context.System.EventStream.Publish(new SingletonsMoved(next.Address));
            }
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
