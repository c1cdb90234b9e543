using Akka.Actor;
using Akka.Cluster;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// Starts a worker node's evaluators (as its children) once the node is Up in the cluster and the coordinator's
/// breeder answers at its path; until then it asks again every half second.
/// </summary>
internal sealed class WorkerEvaluators : ReceiveActor, IWithTimers
{
    private const string Retry = "identify-breeder";

    public WorkerEvaluators(string breederPath, IReadOnlyList<(string Name, Func<IActorRef, Props> Props)> evaluators, Action<string> report)
    {
        Receive<string>(m => m == Retry, _ => Context.ActorSelection(breederPath).Tell(new Identify(breederPath)));
        Receive<ActorIdentity>(identity =>
        {
            if (identity.Subject is not { } breeder)
            {
                Timers.StartSingleTimer(Retry, Retry, TimeSpan.FromMilliseconds(500));
                return;
            }
            Timers.CancelAll();
            foreach (var (name, props) in evaluators)
            {
                Context.ActorOf(props(breeder), name);
            }
            report($"{evaluators.Count} evaluators pull work from {breeder.Path}");
            Become(() => { });
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        var self = Self;
        Cluster.Get(Context.System).RegisterOnMemberUp(() => self.Tell(Retry));
    }
}
