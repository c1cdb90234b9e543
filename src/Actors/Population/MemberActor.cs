using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;

namespace EvolverActors.Actors.Population;

/// <summary>
/// One population slot (a sharding entity). It owns a lease on its current weights so they stay resident on
/// this node's device, and persists every adoption. It never modifies weights: adopting swaps in another id,
/// and the old weights are released only when no breeder or evaluator still holds a lease on them.
/// </summary>
public sealed class MemberActor : ReceivePersistentActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EvolverRuntime _runtime;
    private readonly int _slot;
    private string? _weightsId;
    private long _version;
    private WeightLease? _lease;

    public MemberActor(string runId, int slot)
    {
        _runtime = EvolverRuntime.Get(Context.System);
        _slot = slot;
        PersistenceId = $"member-{runId}-{slot}";

        Recover<WeightsAdopted>(e => (_weightsId, _version) = (e.WeightsId, e.Version));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is WeightsAdopted e)
            {
                (_weightsId, _version) = (e.WeightsId, e.Version);
            }
        });

        Command<AdoptWeights>(Adopt);
        Command<GetMemberWeights>(_ => Sender.Tell(new MemberWeights(_slot, _weightsId, _version, _lease is not null)));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning("member {0}: snapshot failed: {1}", _slot, f.Cause.Message));
    }

    public override string PersistenceId { get; }

    private void Adopt(AdoptWeights command)
    {
        if (command.WeightsId == _weightsId && _lease is not null)
        {
            Sender.Tell(new WeightsAdoptedAck(_slot, _weightsId, _version));
            return;
        }
        // Load (and so verify) the file before persisting: a missing or corrupt file is reported, never adopted.
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
        var replyTo = Sender;
        if (command.WeightsId == _weightsId)
        {
            // Recovery: the journal already says so; only residency was missing.
            _lease = lease;
            replyTo.Tell(new WeightsAdoptedAck(_slot, command.WeightsId, _version));
            return;
        }
        Persist(new WeightsAdopted(command.WeightsId, command.Version), e =>
        {
            var old = _lease;
            (_weightsId, _version, _lease) = (e.WeightsId, e.Version, lease);
            old?.Dispose();
            if (LastSequenceNr % 20 == 0)
            {
                SaveSnapshot(e);
            }
            replyTo.Tell(new WeightsAdoptedAck(_slot, e.WeightsId, e.Version));
        });
    }

    protected override void PostStop()
    {
        _lease?.Dispose();
        base.PostStop();
    }
}
