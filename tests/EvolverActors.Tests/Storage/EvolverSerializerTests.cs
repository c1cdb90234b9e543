using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using EvolverActors.Actors.Messages;
using EvolverActors.Actors.Serialization;
using Xunit;

namespace EvolverActors.Tests.Storage;

public enum SerTestVerdict
{
    Accepted,
    Rejected,
}

public sealed record SerTestScored(string OffspringId, int Slot, double Score, SerTestVerdict Verdict, DateTime AtUtc) : IEvolverMessage;

public sealed record SerTestWithCollections(
    IReadOnlyList<string> Parents,
    string[] Ids,
    IReadOnlyDictionary<string, double> Scores,
    Dictionary<int, string> Slots,
    long[]? Missing) : IEvolverMessage;

public sealed record SerTestFloats(double NaN, double PositiveInfinity, double NegativeInfinity, float Small, double? Nothing) : IEvolverMessage;

public sealed record SerTestRegister(IActorRef Evaluator, string Device, IActorRef? ReplyTo) : IEvolverMessage;

public sealed record SerTestNested(SerTestScored Inner, IReadOnlyList<SerTestScored> History) : IEvolverMessage;

public sealed class SerTestMutable : IEvolverMessage
{
    public string Name { get; set; } = "";
    public int Count { get; set; }
}

public sealed record SerTestUnmarked(string Text);

public sealed class EvolverSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-spec", ConfigurationFactory.ParseString("""
        akka.actor.serialization-settings.evolver.assemblies = ["EvolverActors.Tests"]
        akka.loglevel = WARNING
        """).WithFallback(ConfigurationFactory.ParseString(EvolverSerializer.Hocon)));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private T RoundTrip<T>(T message)
        where T : notnull
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<EvolverSerializer>(serializer);
        Assert.Equal(EvolverSerializer.SerializerId, serializer.Identifier);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        Assert.Equal(typeof(T).Name, manifest);
        var bytes = serializer.ToBinary(message);
        return Assert.IsType<T>(_system.Serialization.Deserialize(bytes, serializer.Identifier, manifest));
    }

    [Fact]
    public void A_positional_record_with_an_enum_and_a_date_round_trips()
    {
        var message = new SerTestScored("child-17", 3, 0.8125, SerTestVerdict.Rejected, new DateTime(2025, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc));
        var back = RoundTrip(message);
        Assert.Equal(message, back);
        Assert.Equal(DateTimeKind.Utc, back.AtUtc.Kind);

        var json = System.Text.Encoding.UTF8.GetString(_system.Serialization.FindSerializerFor(message).ToBinary(message));
        Assert.Contains("\"Rejected\"", json);
    }

    [Fact]
    public void Lists_arrays_and_dictionaries_round_trip()
    {
        var message = new SerTestWithCollections(
            ["a", "b"], ["x", "y", "z"],
            new Dictionary<string, double> { ["dev"] = 0.5, ["test"] = 0.25 },
            new Dictionary<int, string> { [0] = "m0", [7] = "m7" },
            null);
        var back = RoundTrip(message);
        Assert.Equal(message.Parents, back.Parents);
        Assert.Equal(message.Ids, back.Ids);
        Assert.Equal(message.Scores, back.Scores);
        Assert.Equal(message.Slots, back.Slots);
        Assert.Null(back.Missing);
    }

    [Fact]
    public void NaN_and_infinities_round_trip()
    {
        var back = RoundTrip(new SerTestFloats(double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1.5e-7f, null));
        Assert.True(double.IsNaN(back.NaN));
        Assert.Equal(double.PositiveInfinity, back.PositiveInfinity);
        Assert.Equal(double.NegativeInfinity, back.NegativeInfinity);
        Assert.Equal(1.5e-7f, back.Small);
        Assert.Null(back.Nothing);
    }

    [Fact]
    public void Actor_references_round_trip_as_paths()
    {
        var evaluator = _system.ActorOf(Props.Empty, "evaluator-cpu");
        var back = RoundTrip(new SerTestRegister(evaluator, "cpu", null));
        Assert.Equal(evaluator, back.Evaluator);
        Assert.Equal(evaluator.Path, back.Evaluator.Path);
        Assert.Null(back.ReplyTo);

        Assert.Same(ActorRefs.Nobody, RoundTrip(new SerTestRegister(ActorRefs.Nobody, "cpu", null)).Evaluator);
    }

    [Fact]
    public void Nested_records_and_settable_classes_round_trip()
    {
        var inner = new SerTestScored("c", 1, 0.5, SerTestVerdict.Accepted, DateTime.UnixEpoch);
        var back = RoundTrip(new SerTestNested(inner, [inner, inner with { Slot = 2 }]));
        Assert.Equal(inner, back.Inner);
        Assert.Equal(2, back.History[1].Slot);

        var mutable = RoundTrip(new SerTestMutable { Name = "n", Count = 4 });
        Assert.Equal(("n", 4), (mutable.Name, mutable.Count));
    }

    [Fact]
    public void A_type_that_is_not_marked_is_not_bound_to_it()
    {
        var serializer = _system.Serialization.FindSerializerFor(new SerTestUnmarked("x"));
        Assert.IsNotType<EvolverSerializer>(serializer);
    }

    [Fact]
    public void An_unknown_manifest_is_a_clear_error()
    {
        var e = Assert.Throws<SerializationException>(() =>
            _system.Serialization.Deserialize("{}"u8.ToArray(), EvolverSerializer.SerializerId, "NoSuchMessage"));
        Assert.Contains("unknown manifest 'NoSuchMessage'", e.Message);
    }

    [Fact]
    public void Malformed_bytes_name_the_manifest()
    {
        var e = Assert.Throws<SerializationException>(() =>
            _system.Serialization.Deserialize("{ nope"u8.ToArray(), EvolverSerializer.SerializerId, nameof(SerTestScored)));
        Assert.Contains("'SerTestScored'", e.Message);
    }

    [Fact]
    public void The_manifest_map_knows_the_marked_types_of_the_listed_assemblies()
    {
        var serializer = Assert.IsType<EvolverSerializer>(_system.Serialization.FindSerializerFor(new SerTestMutable()));
        Assert.Equal(typeof(SerTestScored), serializer.Types[nameof(SerTestScored)]);
        Assert.DoesNotContain(nameof(SerTestUnmarked), serializer.Types.Keys);
        Assert.DoesNotContain(nameof(IEvolverMessage), serializer.Types.Keys);
    }

    [Fact]
    public void Two_types_of_one_short_name_fail_at_start_up()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            EvolverSerializer.BuildManifests([typeof(First.Same), typeof(Second.Same)]));
        Assert.Contains("'Same'", e.Message);
        Assert.Contains(typeof(First.Same).FullName!, e.Message);
        Assert.Contains(typeof(Second.Same).FullName!, e.Message);
    }

    private static class First
    {
        public sealed record Same;
    }

    private static class Second
    {
        public sealed record Same;
    }
}
