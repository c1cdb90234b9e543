using Akka.Actor;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;

namespace EvolverActors.Actors.Population;

/// <summary>
/// One population slot (a sharding entity). It holds the weights the steward's ledger gives its slot: adopting means
/// obtaining them (resident already, or loaded from a snapshot or checkpoint, or rebuilt from the recipe), which
/// verifies they can be had before the steward goes on. The ledger is the one record of which weights a slot holds
/// (docs/architecture.md §3), so a member persists nothing. With no memory budget it keeps its weights resident (a
/// lease); under <c>memory.max-resident</c> it leaves them to the node's LRU cache, so memory does not grow with N.
/// </summary>
public sealed class MemberActor : ReceiveActor
{
    private readonly EvolverRuntime _runtime;
    private readonly int _slot;
    private string? _weightsId;
    private long _version;
    private WeightLease? _lease;

    public MemberActor(int slot)
    {
        _runtime = EvolverRuntime.Get(Context.System);
        _slot = slot;
        Receive<AdoptWeights>(Adopt);
        Receive<GetMemberWeights>(_ => Sender.Tell(new MemberWeights(_slot, _weightsId, _version, _lease is not null)));
    }

    private void Adopt(AdoptWeights command)
    {
        if (command.WeightsId == _weightsId)
        {
            Sender.Tell(new WeightsAdoptedAck(_slot, _weightsId, _version));
            return;
        }
        foreach (var known in command.Recipes ?? [])
        {
            _runtime.Book.Add(known.WeightsId, known.Recipe, known.ContentHash);
        }
        WeightLease lease;
        try
        {
            lease = _runtime.Resident.Acquire(command.WeightsId);
        }
        catch (Exception e) when (e is Tensors.EvolverException or IOException)
        {
            Sender.Tell(new AdoptionFailed(_slot, command.WeightsId, e.Message));
            return;
        }
        var old = _lease;
        (_weightsId, _version) = (command.WeightsId, command.Version);
        if (_runtime.Settings.MaxResidentBytes > 0)
        {
            try
            {
                // Written to the snapshot store (once), so the cache may let them go and map them back later.
                _runtime.Resident.Keep(lease, command.Version);
            }
            catch (Exception e) when (e is Tensors.EvolverException or IOException)
            {
                lease.Dispose();
                Sender.Tell(new AdoptionFailed(_slot, command.WeightsId, e.Message));
                return;
            }
            lease.Dispose(); // obtained (so it can be had) and left to the cache
            _lease = null;
        }
        else
        {
            _lease = lease;
        }
        old?.Dispose();
        Sender.Tell(new WeightsAdoptedAck(_slot, _weightsId, _version));
    }

    protected override void PostStop() => _lease?.Dispose();
}
