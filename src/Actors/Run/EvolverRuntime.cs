using Akka.Actor;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Evaluation;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Run;

/// <summary>
/// What the actors of one node share for a run: settings, the run directory, the node's resident weights (a cache
/// over snapshots, starting checkpoints and recipes), the recipes it knows, and how to make an evaluator's fitness for
/// a device. Installed as an ActorSystem extension by the host before the actors start; tests install their own.
/// </summary>
public sealed class EvolverRuntime : IExtension
{
    public EvolverRuntime(RunSettings settings, string runId, ResidentWeights resident,
        Func<Device, IPopulationFitness> fitnessFactory, IReadOnlyList<string> initialWeights, RunDirectory? directory = null)
    {
        Settings = settings;
        RunId = runId;
        Resident = resident;
        FitnessFactory = fitnessFactory;
        InitialWeights = initialWeights;
        Directory = directory;
    }

    public RunSettings Settings { get; }
    public string RunId { get; }
    public ResidentWeights Resident { get; }
    public Func<Device, IPopulationFitness> FitnessFactory { get; }

    /// <summary>The weight ids of the population at version 0 (content addresses of the starting checkpoints).</summary>
    public IReadOnlyList<string> InitialWeights { get; }

    /// <summary>Where status.json goes; null in tests that do not need it.</summary>
    public RunDirectory? Directory { get; }

    /// <summary>The recipes of accepted offspring (fed by the steward) and of offspring in flight (by the breeder).</summary>
    public RecipeBook Book { get; init; } = new();

    /// <summary>
    /// A worker node (docs/architecture.md §4): its evaluators build each offspring from the recipe in the work item,
    /// since the breeder that bred it is on the coordinator. On the coordinator an offspring whose recipe the book no
    /// longer has was decided already, and is reported as failed rather than built again.
    /// </summary>
    public bool WorkerNode { get; init; }

    /// <summary>The run's population snapshots; null when the run keeps none (tests).</summary>
    public PopulationSnapshots? Snapshots { get; init; }

    public int Slots => InitialWeights.Count;

    /// <summary>Where this node's HTTP endpoint listens (<c>host:port</c>), once it does; `evolver status` shows it.</summary>
    public string? HttpAddress { get; set; }

    /// <summary>This node's metrics (docs/architecture.md §6); null when nothing exports them (tests, tools).</summary>
    public RunMetrics? Metrics { get; init; }

    private long _scored;

    /// <summary>Offspring this node's evaluators have scored (a worker node reports it when it leaves).</summary>
    public long Scored => Interlocked.Read(ref _scored);

    internal void CountScored() => Interlocked.Increment(ref _scored);

    public static EvolverRuntime Get(ActorSystem system) =>
        system.GetExtension<EvolverRuntime>() ?? throw new InvalidOperationException("EvolverRuntime is not installed in this actor system");

    public static void Install(ActorSystem system, EvolverRuntime runtime) =>
        system.RegisterExtension(new Provider(runtime));

    private sealed class Provider(EvolverRuntime runtime) : ExtensionIdProvider<EvolverRuntime>
    {
        public override EvolverRuntime CreateExtension(ExtendedActorSystem system) => runtime;
    }
}
