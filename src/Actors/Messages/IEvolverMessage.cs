namespace EvolverActors.Actors.Messages;

/// <summary>
/// Marker for every message that may cross nodes. The actor system binds this one interface to one
/// serializer, so a message that is not marked fails loudly in tests instead of on a remote node.
/// Messages carry weight ids, never tensors (docs/architecture.md §3).
/// </summary>
public interface IEvolverMessage;
