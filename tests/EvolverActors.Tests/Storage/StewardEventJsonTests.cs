using System.Text;
using Akka.Actor;
using Akka.Configuration;
using EvolverActors.Actors.Serialization;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Storage;

/// <summary>
/// Golden JSON for persisted steward events: an event can never change shape once a journal holds it, so its bytes
/// are pinned by a checked-in file (Storage/Golden/&lt;event&gt;.json) compared byte for byte, and that file must read back.
/// </summary>
public sealed class StewardEventJsonTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("golden-spec", ConfigurationFactory.ParseString("akka.loglevel = WARNING")
        .WithFallback(ConfigurationFactory.ParseString(EvolverSerializer.Hocon)));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private EvolverSerializer Serializer => Assert.IsType<EvolverSerializer>(_system.Serialization.FindSerializerForType(typeof(RunFinished)));

    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Storage", "Golden", name + ".json")).TrimEnd();

    [Fact]
    public void OffspringEvaluationFailed_keeps_its_golden_json()
    {
        var e = new OffspringEvaluationFailed(2, "evolver", "evaluator-0-meta: Tensor on device meta has no data", 17,
            new DateTime(2025, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc));
        var json = Encoding.UTF8.GetString(Serializer.ToBinary(e));
        Assert.Equal(Golden(nameof(OffspringEvaluationFailed)), json);
        Assert.Equal(nameof(OffspringEvaluationFailed), Serializer.Manifest(e));
        Assert.Equal(e, Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden(nameof(OffspringEvaluationFailed))), nameof(OffspringEvaluationFailed)));
    }

    [Fact]
    public void A_snapshot_written_before_failed_evaluations_were_counted_reads_with_none()
    {
        const string older = """
            {"State":{"SlotWeights":["init-0","init-1"],"SlotScores":[0.5,0.5],"PopulationScore":0.5,"Version":0,"Evaluations":7,
            "Accepted":0,"Rejected":6,"Dropped":2,"LastAcceptedAt":0,"Initialized":true,"FinishedReason":null,
            "RejectedByOperator":{"evolver":6},"RejectedBySlot":[3,3]}}
            """;
        var snapshot = Assert.IsType<StewardSnapshot>(Serializer.FromBinary(Encoding.UTF8.GetBytes(older), nameof(StewardSnapshot)));
        Assert.Equal((7L, 2L, 0L), (snapshot.State.Evaluations, snapshot.State.Dropped, snapshot.State.Failed));
    }
}
