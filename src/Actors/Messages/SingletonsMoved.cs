using Akka.Actor;

namespace EvolverActors.Actors.Messages;

/// <summary>
/// Published on a node's event stream when the steward and breeder singletons move to another coordinator node (the
/// oldest node with the coordinator role was lost; docs/architecture.md §4). The new steward and breeder know nothing
/// of this node's evaluators, so each registers again and asks for work anew.
/// </summary>
public sealed record SingletonsMoved(Address NewHome) : IEvolverMessage;
