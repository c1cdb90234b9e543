using Akka.Actor;
using EvolverActors.Actors.Messages;
using EvolverActors.Actors.Steward;

namespace EvolverActors.Actors.Breeding;

/// <summary>Evaluator → breeder: give me one offspring when you have one (work pulling).</summary>
public sealed record RequestWork(IActorRef Evaluator) : IEvolverMessage;

/// <summary>Breeder → evaluator: score this offspring (its weights are resident under <c>Offspring.Id</c>).</summary>
public sealed record EvaluateOffspring(OffspringInfo Offspring) : IEvolverMessage;

/// <summary>Evaluator → breeder: it has scored (or failed) the offspring and holds no weights of it; the breeder may let go of them.</summary>
public sealed record OffspringTaken(string OffspringId) : IEvolverMessage;

/// <summary>Evaluator → breeder: scoring threw; the breeder retries it a bounded number of times.</summary>
public sealed record OffspringFailed(OffspringInfo Offspring, string Reason) : IEvolverMessage;

/// <summary>Steward → breeder: hand out no work while paused (offspring handed out already go on), then go on.</summary>
public sealed record PauseBreeding(bool Paused) : IEvolverMessage;

/// <summary>Steward → breeder: stop handing out work (graceful stop); in-flight offspring are abandoned.</summary>
public sealed record StopBreeding(string Reason) : IEvolverMessage;
