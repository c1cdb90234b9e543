using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;

namespace EvolverActors.Actors.Serialization;

/// <summary>
/// Writes an <see cref="IActorRef"/> as its serialized path (with the address remote peers reach it by)
/// and resolves it back through the actor system's provider. <see cref="ActorRefs.Nobody"/> is "".
/// </summary>
internal sealed class ActorRefJsonConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
{
    public override bool HandleNull => false;

    public override IActorRef? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"an actor reference must be a JSON string (a path), not {reader.TokenType}");
        }
        var path = reader.GetString();
        return string.IsNullOrEmpty(path) ? ActorRefs.Nobody : system.Provider.ResolveActorRef(path);
    }

    public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.IsNobody() ? "" : Akka.Serialization.Serialization.SerializedActorPath(value));
}
