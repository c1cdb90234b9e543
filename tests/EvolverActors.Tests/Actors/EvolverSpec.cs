using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Serialization;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// The common ground of the actor specs: an actor system with the in-memory journal and snapshot store, the
/// <see cref="EvolverSerializer"/> bound and <c>serialize-messages = on</c> (every message an actor receives is
/// proven serialisable, actor refs included), and an <see cref="EvolverRuntime"/> over a weight store in a temp
/// directory holding tiny initial weights <c>m0</c>, <c>m1</c>, … (a few float tensors each).
/// </summary>
public abstract class EvolverSpec : Akka.TestKit.Xunit.TestKit
{
    public const string RunId = "spec-run";

    /// <summary>Long enough for a loaded CI machine; every wait names what it waits for.</summary>
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>How long "nothing arrives" is watched for.</summary>
    protected static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    public const string InMemoryHocon = """
        akka.loglevel = WARNING
        akka.actor.serialize-messages = on
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """;

    private readonly TempDir _dir = new();
    private EvolverRuntime? _runtime;

    protected EvolverSpec(ITestOutputHelper output, string? hocon = null)
        : base(ConfigurationFactory.ParseString(hocon ?? InMemoryHocon).WithFallback(ConfigurationFactory.ParseString(EvolverSerializer.Hocon)),
            "spec", output)
    {
        Store = new WeightStore(Path.Combine(_dir.Path, "weights"));
        // Like a run: initial weights from files, every other id rebuilt from the recipes the steward and breeder record.
        Resident = new ResidentWeights(new WeightMaterializer(new Dictionary<string, string>(), Book,
            name => OperatorRegistry.Get(name, new Dictionary<string, string>()), legacy: Store), CPU);
    }

    protected WeightStore Store { get; }

    protected RecipeBook Book { get; } = new();

    protected ResidentWeights Resident { get; }

    protected EvolverRuntime Runtime => _runtime ?? throw new InvalidOperationException("call Install first");

    protected static RunSettings Settings(FitnessMode mode = FitnessMode.Merged) => new()
    {
        Task = "spec",
        Mode = mode,
        MaxEvaluations = 100,
    };

    /// <summary>
    /// Writes <paramref name="slots"/> initial weight sets (<c>m0</c>, <c>m1</c>, …) to the store and installs the
    /// runtime (once per spec, before any actor that reads it starts).
    /// </summary>
    protected EvolverRuntime Install(RunSettings settings, int slots = 3, Func<Device, IPopulationFitness>? fitness = null, bool workerNode = false)
    {
        var initial = new List<string>();
        for (var slot = 0; slot < slots; slot++)
        {
            var id = $"m{slot}";
            using var weights = Tiny(slot);
            Store.Write(id, weights);
            initial.Add(id);
        }
        _runtime = new EvolverRuntime(settings, RunId, Resident,
            fitness ?? (_ => throw new InvalidOperationException("this spec starts no evaluator")), initial)
        { Book = Book, WorkerNode = workerNode };
        EvolverRuntime.Install(Sys, _runtime);
        return _runtime;
    }

    /// <summary>Two float tensors whose values are all <paramref name="value"/> plus their index.</summary>
    protected static WeightSet Tiny(float value) => WeightSet.Adopt(
    [
        ("layer.weight", tensor(new[] { value, value + 1, value + 2, value + 3 }).reshape(2, 2)),
        ("layer.bias", tensor(new[] { value, value })),
    ]);

    /// <summary>The mean of the child's <c>layer.bias</c> (what fake fitnesses score by).</summary>
    protected static double BiasMean(WeightSet weights) => weights["layer.bias"].mean().item<float>();

    /// <summary>
    /// An offspring for <paramref name="target"/> with one parent, as a breeder would describe it; the steward decides in
    /// <paramref name="sequence"/> order.
    /// </summary>
    protected static OffspringInfo Offspring(string id, int target, long bredAtVersion = 0, long sequence = 0) =>
        new(id, new Recipe(Recipe.CurrentFormat, sequence, target, $"m{target}", [(target + 1) % 3], [$"m{(target + 1) % 3}"], "evolver", 0.5, 0.5,
            "binomial", false, "element", null, "raw", 7), new LedgerView(bredAtVersion, ["m0", "m1", "m2"], [0, 0, 0], null, false));

    /// <summary>Equal offspring, compared by id and sequence (serialize-messages hands actors copies, never the same arrays).</summary>
    protected static void AssertSameOffspring(OffspringInfo expected, OffspringInfo actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.Recipe.ParentWeights, actual.Recipe.ParentWeights);
    }

    /// <summary>Stops <paramref name="actor"/> and waits until it is gone (its name and persistence id are free again).</summary>
    protected void StopAndWait(IActorRef actor, string what)
    {
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor, Wait, $"{what} should stop");
        Unwatch(actor);
    }

    /// <summary>A probe whose name says which role it stands in for (it shows in failure messages).</summary>
    protected TestProbe Probe(string role) => CreateTestProbe(role);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _dir.Dispose();
        }
    }
}
