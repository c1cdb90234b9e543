using EvolverActors.Actors.Messages;

namespace EvolverActors.Actors.Population;

/// <summary>Every message to a member names its slot (the sharding entity id).</summary>
public interface IMemberCommand : IEvolverMessage
{
    int Slot { get; }
}

/// <summary>Steward → member: hold these weights from now on (idempotent: re-sent after recovery).</summary>
/// <remarks>
/// <paramref name="Recipes"/>: recipes the member's node may need to rebuild the weights (a member sharded onto another
/// coordinator-capable node than the steward's; docs/architecture.md §4).
/// </remarks>
public sealed record AdoptWeights(int Slot, string WeightsId, long Version, IReadOnlyList<Steward.KnownRecipe>? Recipes = null) : IMemberCommand;

/// <summary>Member → steward: the weights are adopted (obtained: resident, loaded or rebuilt).</summary>
public sealed record WeightsAdoptedAck(int Slot, string WeightsId, long Version) : IEvolverMessage;

/// <summary>Member → steward: the weights file is missing or corrupt (never substituted).</summary>
public sealed record AdoptionFailed(int Slot, string WeightsId, string Problem) : IEvolverMessage;

/// <summary>Asks a member which weights it holds; answered with <see cref="MemberWeights"/>.</summary>
public sealed record GetMemberWeights(int Slot) : IMemberCommand;

public sealed record MemberWeights(int Slot, string? WeightsId, long Version, bool Resident) : IEvolverMessage;

/// <summary>Persisted by members of runs before recipes (read by nobody now; kept so old journals stay readable).</summary>
public sealed record WeightsAdopted(string WeightsId, long Version) : IEvolverMessage;
