using Akka.Actor;

namespace EvolverActors.Actors.Steward;

/// <summary>
/// The evaluators the steward knows this session, as plain data: the healthy ones in registration order, the ones
/// gone (retired, with their reasons, or stopped), and who scores the initial population. Not persisted: every
/// start registers its evaluators afresh. <see cref="NoneHealthyReason"/> is the rule that ends a run nobody can
/// evaluate for any more.
/// </summary>
public sealed class EvaluatorRoster(int expected)
{
    private readonly List<(IActorRef Ref, string Name)> _healthy = [];
    private readonly HashSet<IActorRef> _gone = [];
    private readonly List<string> _retired = [];

    /// <summary>The evaluators this node starts (one per configured device); none is given up for before they all registered.</summary>
    public int Expected { get; } = expected;

    public IEnumerable<IActorRef> Healthy => _healthy.Select(e => e.Ref);

    public int HealthyCount => _healthy.Count;

    /// <summary>Evaluators seen this session, healthy or gone.</summary>
    public int Seen => _healthy.Count + _gone.Count;

    /// <summary>The evaluator asked for the initial scores, until it answers, fails or goes.</summary>
    public IActorRef? InitialScorer { get; set; }

    public bool IsGone(IActorRef evaluator) => _gone.Contains(evaluator);

    public string? NameOf(IActorRef evaluator) => _healthy.FirstOrDefault(e => e.Ref.Equals(evaluator)).Name;

    /// <summary>Adds a healthy evaluator (a restarted one registers again under the same ref: no change). False for one that is gone.</summary>
    public bool Register(IActorRef evaluator, string name)
    {
        if (_gone.Contains(evaluator))
        {
            return false;
        }
        if (!_healthy.Any(e => e.Ref.Equals(evaluator)))
        {
            _healthy.Add((evaluator, name));
        }
        return true;
    }

    /// <summary>The evaluator gave up (too many failures in a row, or it could not start): it gets no more work.</summary>
    public void Retire(IActorRef evaluator, string reason)
    {
        if (_gone.Contains(evaluator))
        {
            return;
        }
        Remove(evaluator);
        _retired.Add(reason);
    }

    /// <summary>The evaluator stopped (or retired): it is gone for the rest of this session.</summary>
    public void Remove(IActorRef evaluator)
    {
        _healthy.RemoveAll(e => e.Ref.Equals(evaluator));
        _gone.Add(evaluator);
        if (evaluator.Equals(InitialScorer))
        {
            InitialScorer = null;
        }
    }

    /// <summary>
    /// Who to ask for the initial scores: the healthy evaluator registered after <paramref name="after"/> (the one that
    /// just failed them), wrapping around, so a failing evaluator is asked again only when it is the only one left.
    /// </summary>
    public IActorRef? NextScorer(IActorRef? after)
    {
        if (_healthy.Count == 0)
        {
            return null;
        }
        var index = after is null ? -1 : _healthy.FindIndex(e => e.Ref.Equals(after));
        return _healthy[(index + 1) % _healthy.Count].Ref;
    }

    /// <summary>
    /// Why the run cannot go on: every expected evaluator has registered, none is healthy, and at least one was retired
    /// (an evaluator that merely stopped may be a node that comes back). Null while some evaluator can still work.
    /// </summary>
    public string? NoneHealthyReason() =>
        _healthy.Count == 0 && Seen >= Expected && _retired.Count > 0
            ? $"no healthy evaluator left ({string.Join("; ", _retired)})"
            : null;
}
