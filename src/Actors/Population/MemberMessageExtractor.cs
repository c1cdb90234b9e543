using System.Globalization;
using Akka.Cluster.Sharding;

namespace EvolverActors.Actors.Population;

/// <summary>Members are sharding entities keyed by slot number.</summary>
public sealed class MemberMessageExtractor(int shards = 10) : HashCodeMessageExtractor(shards)
{
    public override string? EntityId(object message) =>
        message is IMemberCommand command ? command.Slot.ToString(CultureInfo.InvariantCulture) : null;
}
