using Akka.Actor;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Tensors.Search;

namespace EvolverActors.Actors.Breeding;

/// <summary>What the breeder actor does for its machine.</summary>
public abstract record BreederEffect;

/// <summary>
/// Draw and build offspring <paramref name="Sequence"/> from <paramref name="From"/>, then hand it back through
/// <see cref="BreederMachine.Built"/>. In a coefficient search, <paramref name="SearchScores"/> holds every decided
/// candidate's score by sequence number (what the search's next generation is drawn from); null otherwise.
/// </summary>
public sealed record BuildOffspring(long Sequence, LedgerView From, IReadOnlyList<double?>? SearchScores = null) : BreederEffect;

/// <summary>Send an offspring to an evaluator that asked for work.</summary>
public sealed record SendOffspring(IActorRef Evaluator, OffspringInfo Offspring) : BreederEffect;

/// <summary>An offspring failed on every retry: tell the steward (it is decided in its turn as a failed evaluation).</summary>
public sealed record GiveUp(OffspringInfo Offspring, string Reason) : BreederEffect;

/// <summary>The breeder's hold on an offspring's weights can go (it is decided).</summary>
public sealed record ReleaseOffspring(string Id) : BreederEffect;

/// <summary>
/// The breeder's protocol as a pure state machine (docs/architecture.md §2): which offspring to issue next and from
/// which population, the queue of built offspring, work in flight per evaluator, retries, and the barrier. Offspring
/// are numbered in issue order; offspring n is bred from the population after decision <see cref="RunSettings.BreedBase"/>(n)
/// (steady-state: a fixed lag; generational: the start of its generation), which the steward's decisions, arriving in
/// order, make known. A coefficient search (<paramref name="searchGeneration"/>: CMA-ES's λ) issues a whole generation
/// once the one before it is decided, since its candidates are drawn from those scores; it keeps them (by sequence).
/// Commands return effects; the actor performs them.
/// </summary>
public sealed class BreederMachine(RunSettings settings, int slots, int? searchGeneration = null)
{
    private readonly List<double?> _searchScores = [];
    private readonly SortedDictionary<long, LedgerView> _views = [];
    private readonly LinkedList<OffspringInfo> _ready = new();
    private readonly Dictionary<string, (OffspringInfo Info, IActorRef Evaluator)> _inFlight = new(StringComparer.Ordinal);
    private readonly HashSet<string> _undecided = new(StringComparer.Ordinal);
    private readonly Queue<IActorRef> _waiting = new();
    private long _limit;
    private long _building = -1;

    /// <summary>The next sequence number to issue.</summary>
    public long NextSequence { get; private set; }

    /// <summary>Decisions known so far (the steward makes them in sequence order).</summary>
    public long Decided { get; private set; } = -1;

    public bool Started => Decided >= 0;
    public bool Stopped { get; private set; }

    /// <summary>Paused by the operator: waiting evaluators get nothing until resumed.</summary>
    public bool Paused { get; private set; }
    public int Ready => _ready.Count;
    public int InFlight => _inFlight.Count;

    /// <summary>Offspring issued and not decided yet (built, queued or in flight): the ids whose weights the breeder holds.</summary>
    public IReadOnlyCollection<string> Undecided => _undecided;

    /// <summary>The steward says where to start (a new run, or a resumed one): the first undecided offspring and the populations to breed from.</summary>
    public IReadOnlyList<BreederEffect> Start(BreedFrom m)
    {
        if (Started)
        {
            _limit = Math.Max(_limit, m.SequenceLimit);
            return Fill();
        }
        NextSequence = m.NextSequence;
        Decided = m.NextSequence;
        _searchScores.AddRange(m.SearchScores ?? []);
        _limit = m.SequenceLimit;
        foreach (var view in m.Views)
        {
            _views[view.Decided] = view;
        }
        return Fill();
    }

    /// <summary>An evaluator asks for one offspring (work pulling).</summary>
    public IReadOnlyList<BreederEffect> RequestWork(IActorRef evaluator)
    {
        if (!_waiting.Contains(evaluator))
        {
            _waiting.Enqueue(evaluator);
        }
        return Dispatch();
    }

    /// <summary>The actor built offspring <paramref name="info"/> (its weights are resident under its id).</summary>
    public IReadOnlyList<BreederEffect> Built(OffspringInfo info)
    {
        _building = -1;
        _ready.AddLast(info);
        _undecided.Add(info.Id);
        return Dispatch();
    }

    /// <summary>A decision (or an abandonment) from the steward, in sequence order.</summary>
    public IReadOnlyList<BreederEffect> OnDecided(OffspringDecided m)
    {
        var effects = new List<BreederEffect>();
        if (m.Decided)
        {
            Decided = Math.Max(Decided, m.Ledger.Decided);
            _views[m.Ledger.Decided] = m.Ledger;
            if (searchGeneration is not null)
            {
                CoefficientSearch.Record(_searchScores, m.Sequence, m.Score);
            }
        }
        _inFlight.Remove(m.OffspringId);
        if (_ready.FirstOrDefault(o => o.Id == m.OffspringId) is { } queued)
        {
            _ready.Remove(queued); // re-issued after its evaluator went, but decided meanwhile
        }
        if (_undecided.Remove(m.OffspringId))
        {
            effects.Add(new ReleaseOffspring(m.OffspringId));
        }
        if (m.Ledger.Finished)
        {
            Stopped = true;
        }
        effects.AddRange(Fill());
        effects.AddRange(Dispatch());
        return effects;
    }

    /// <summary>An evaluator could not score an offspring: retried (first in line) up to the limit, then given up.</summary>
    public IReadOnlyList<BreederEffect> OnFailed(OffspringInfo info, string reason)
    {
        if (!_inFlight.Remove(info.Id))
        {
            return []; // decided or re-issued meanwhile: nothing to retry
        }
        if (info.Attempt + 1 < settings.MaxRetries)
        {
            _ready.AddFirst(info with { Attempt = info.Attempt + 1 });
            return Dispatch();
        }
        return [new GiveUp(info, reason)];
    }

    /// <summary>A dead or retired evaluator's offspring go back to the front of the queue, in sequence order; it gets no more work.</summary>
    public IReadOnlyList<BreederEffect> EvaluatorGone(IActorRef evaluator, out int reissued)
    {
        var lost = _inFlight.Values.Where(v => v.Evaluator.Equals(evaluator)).Select(v => v.Info).OrderByDescending(i => i.Sequence).ToList();
        foreach (var info in lost)
        {
            _inFlight.Remove(info.Id);
            _ready.AddFirst(info);
        }
        var others = _waiting.Where(e => !e.Equals(evaluator)).ToList();
        _waiting.Clear();
        others.ForEach(_waiting.Enqueue);
        reissued = lost.Count;
        return Dispatch();
    }

    /// <summary>
    /// The steward's newest population (after an acceptance, an admission or a retirement). An admission or retirement
    /// changes the population after the same number of decisions: offspring not issued yet are bred from the new one.
    /// </summary>
    public void PopulationChanged(LedgerView view)
    {
        if (_views.TryGetValue(view.Decided, out var known) && view.Version > known.Version)
        {
            _views[view.Decided] = view;
        }
    }

    public void Stop() => Stopped = true;

    /// <summary>Pauses or resumes handing out work; resuming serves the evaluators that asked meanwhile.</summary>
    public IReadOnlyList<BreederEffect> Pause(bool paused)
    {
        Paused = paused;
        return paused ? [] : Dispatch();
    }

    /// <summary>Issues what may be issued: within the budget, within the queue's capacity, and only once its population is known.</summary>
    private List<BreederEffect> Fill()
    {
        var effects = new List<BreederEffect>();
        while (!Stopped && Started && _building < 0 && NextSequence < _limit && _ready.Count < Capacity)
        {
            var from = BreedBase(NextSequence);
            if (from > Decided || !TryGetView(from, out var view))
            {
                break; // its population is not decided yet (the lag or the generation's barrier)
            }
            _building = NextSequence;
            effects.Add(new BuildOffspring(NextSequence, view, searchGeneration is null ? null : [.. _searchScores]));
            NextSequence++;
            DropViewsBefore(BreedBase(NextSequence));
        }
        return effects;
    }

    /// <summary>Steady-state keeps a bounded queue; generational builds its whole generation, and so does a search.</summary>
    private int Capacity => searchGeneration ?? (settings.Schedule == Schedule.Generational ? slots : settings.QueueCapacity);

    /// <summary>The decision count offspring <paramref name="sequence"/> waits for: a search's generation start, else the schedule's.</summary>
    private long BreedBase(long sequence) => searchGeneration is { } lambda ? sequence / lambda * lambda : settings.BreedBase(sequence, slots);

    /// <summary>
    /// The population to breed from. A search's members never change (only the best merge does), so it takes the newest
    /// view once its barrier is passed; breeding takes the view after exactly <paramref name="decided"/> decisions.
    /// </summary>
    private bool TryGetView(long decided, out LedgerView view)
    {
        if (searchGeneration is not null && _views.Count > 0)
        {
            view = _views.Last().Value;
            return true;
        }
        return _views.TryGetValue(decided, out view!);
    }

    private void DropViewsBefore(long decided)
    {
        while (_views.Count > 1 && _views.First().Key < decided)
        {
            _views.Remove(_views.First().Key);
        }
    }

    private List<BreederEffect> Dispatch()
    {
        var effects = new List<BreederEffect>();
        while (_waiting.Count > 0 && _ready.Count > 0 && !Stopped && !Paused)
        {
            var evaluator = _waiting.Dequeue();
            var info = _ready.First!.Value;
            _ready.RemoveFirst();
            _inFlight[info.Id] = (info, evaluator);
            effects.Add(new SendOffspring(evaluator, info));
        }
        effects.AddRange(Fill());
        return effects;
    }
}
