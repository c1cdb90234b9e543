using Akka.Actor;
using Akka.Persistence;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// Reads a persistence id that never exists from the journal and the snapshot store as soon as a coordinator's actor
/// system starts, so that their first connection, schema check and query compilation (a few hundred milliseconds)
/// overlap the cluster's formation instead of delaying the steward's recovery (docs/architecture.md, "Start-up").
/// It writes nothing, and stops once both have answered.
/// </summary>
internal sealed class PersistenceWarmup : ReceiveActor
{
    private const string NobodysId = "evolver-start-up-warm-up";
    private int _answers;

    /// <param name="answered">Completed once both have answered (null: nobody waits).</param>
    public PersistenceWarmup(TaskCompletionSource? answered = null)
    {
        ReceiveAny(message =>
        {
            // The journal answers a replay with RecoverySuccess (or a failure), the snapshot store a load with one reply.
            if (message is RecoverySuccess or ReplayMessagesFailure or LoadSnapshotResult or LoadSnapshotFailed && ++_answers == 2)
            {
                answered?.TrySetResult();
                Context.Stop(Self);
            }
        });
    }

    protected override void PreStart()
    {
        var persistence = Persistence.Instance.Apply(Context.System);
        persistence.SnapshotStoreFor(null).Tell(new LoadSnapshot(NobodysId, SnapshotSelectionCriteria.Latest, long.MaxValue));
        persistence.JournalFor(null).Tell(new ReplayMessages(0, long.MaxValue, long.MaxValue, NobodysId, Self));
    }
}
