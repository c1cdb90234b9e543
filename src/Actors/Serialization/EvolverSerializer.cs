using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using EvolverActors.Actors.Messages;

namespace EvolverActors.Actors.Serialization;

/// <summary>
/// The one serializer for everything that crosses nodes or is persisted: every type implementing
/// <see cref="IEvolverMessage"/> (messages and journal events), as System.Text.Json. The manifest is the
/// type's short name, stable across renames of namespaces and assemblies, so persisted events survive
/// refactoring; the name map is built at start-up by scanning this assembly (plus any assemblies listed in
/// <c>akka.actor.serialization-settings.evolver.assemblies</c>) and two types of one name fail start-up.
/// Handles <see cref="IActorRef"/> fields, positional records, collections, enums (as names), DateTime
/// and NaN/±Infinity.
/// </summary>
public sealed class EvolverSerializer : SerializerWithStringManifest
{
    /// <summary>This serializer's id on the wire and in the journal (never change it).</summary>
    public const int SerializerId = 8471;

    /// <summary>The name this serializer is registered under in <c>akka.actor.serializers</c>.</summary>
    public const string Name = "evolver";

    /// <summary>Binds <see cref="IEvolverMessage"/> to this serializer; include it in every actor system's config.</summary>
    public static readonly string Hocon = $$"""
        akka.actor {
          serializers {
            {{Name}} = "{{TypeName(typeof(EvolverSerializer))}}"
          }
          serialization-bindings {
            "{{TypeName(typeof(IEvolverMessage))}}" = {{Name}}
          }
          serialization-identifiers {
            "{{TypeName(typeof(EvolverSerializer))}}" = {{SerializerId}}
          }
        }
        """;

    private readonly Dictionary<string, Type> _byManifest;
    private readonly Dictionary<Type, string> _manifests;
    private readonly JsonSerializerOptions _json;

    public EvolverSerializer(ExtendedActorSystem system)
        : this(system, ConfigurationFactory.Empty)
    {
    }

    /// <summary>Created by Akka when <c>akka.actor.serialization-settings.evolver</c> exists.</summary>
    public EvolverSerializer(ExtendedActorSystem system, Config settings)
        : base(system)
    {
        var assemblies = new List<Assembly> { typeof(IEvolverMessage).Assembly };
        foreach (var name in settings.IsNullOrEmpty() ? [] : settings.GetStringList("assemblies", []))
        {
            assemblies.Add(Assembly.Load(name));
        }
        _byManifest = BuildManifests(assemblies.Distinct().SelectMany(MessageTypes));
        _manifests = _byManifest.ToDictionary(kv => kv.Value, kv => kv.Key);
        _json = CreateOptions(system);
    }

    public override int Identifier => SerializerId;

    /// <summary>The message types this serializer knows, by manifest.</summary>
    public IReadOnlyDictionary<string, Type> Types => _byManifest;

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        _ = Manifest(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _json);
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_byManifest.TryGetValue(manifest, out var type))
        {
            throw new SerializationException(
                $"{nameof(EvolverSerializer)}: unknown manifest '{manifest}': no {nameof(IEvolverMessage)} type of that name is known here");
        }
        try
        {
            if (type == typeof(Steward.StewardSnapshot))
            {
                Tensors.Diagnostics.StartupTrace.Mark($"steward snapshot read ({bytes.Length} bytes), deserializing");
            }
            return JsonSerializer.Deserialize(bytes, type, _json)
                ?? throw new SerializationException($"{nameof(EvolverSerializer)}: '{manifest}' deserialized to null");
        }
        catch (JsonException e)
        {
            throw new SerializationException($"{nameof(EvolverSerializer)}: cannot read a '{manifest}': {e.Message}", e);
        }
    }

    public override string Manifest(object o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return _manifests.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException(
                $"{nameof(EvolverSerializer)}: {o.GetType().FullName} is not a known {nameof(IEvolverMessage)} "
                + "(is it in an assembly listed in akka.actor.serialization-settings.evolver.assemblies?)");
    }

    /// <summary>The concrete, non-generic <see cref="IEvolverMessage"/> types of an assembly.</summary>
    internal static IEnumerable<Type> MessageTypes(Assembly assembly) =>
        assembly.GetTypes().Where(t =>
            typeof(IEvolverMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false, ContainsGenericParameters: false });

    /// <summary>Manifest → type by short name; two types of one name are refused, naming both.</summary>
    internal static Dictionary<string, Type> BuildManifests(IEnumerable<Type> types)
    {
        var map = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var type in types.Distinct())
        {
            if (!map.TryAdd(type.Name, type))
            {
                throw new InvalidOperationException(
                    $"{nameof(EvolverSerializer)}: two message types are named '{type.Name}' ({map[type.Name].FullName} and {type.FullName}); "
                    + "manifests are short names, so rename one");
            }
        }
        return map;
    }

    private static JsonSerializerOptions CreateOptions(ExtendedActorSystem system)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            IncludeFields = true,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.Converters.Add(new ActorRefJsonConverter(system));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
