using Akka.Actor;
using Akka.Cluster;

namespace EvolverActors.Actors.Hosting;

/// <summary>Starts a worker node's evaluators (as its children) once the node is Up in the cluster.</summary>
internal sealed class WorkerEvaluators : ReceiveActor
{
    private sealed record Up
    {
        public static Up Instance { get; } = new();
    }

    public WorkerEvaluators(IActorRef breeder, IReadOnlyList<(string Name, Func<IActorRef, Props> Props)> evaluators, Action<string> report)
    {
        Receive<Up>(_ =>
        {
            foreach (var (name, props) in evaluators)
            {
                Context.ActorOf(props(breeder), name);
            }
            report($"{evaluators.Count} evaluators pull work from the breeder");
        });
    }

    protected override void PreStart()
    {
        var self = Self;
        Cluster.Get(Context.System).RegisterOnMemberUp(() => self.Tell(Up.Instance));
    }
}
