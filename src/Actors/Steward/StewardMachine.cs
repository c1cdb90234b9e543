using Akka.Actor;
using EvolverActors.Actors.Run;

namespace EvolverActors.Actors.Steward;

/// <summary>What the steward actor does once a step's events are stored (docs/architecture.md §2–3).</summary>
public abstract record StewardEffect;

/// <summary>Tell the evaluator (when one scored it) and the breeders what became of an offspring (with its decided score, if any).</summary>
public sealed record NotifyDecided(OffspringInfo Offspring, IActorRef? Evaluator, bool Accepted, bool Decided, double? Score = null) : StewardEffect;

/// <summary>Tell only the evaluator holding a copy of an offspring decided already that it may let it go.</summary>
public sealed record ReleaseCopy(OffspringInfo Offspring, IActorRef Evaluator) : StewardEffect;

/// <summary>Ask the evaluator holding the offspring to score it against the current population.</summary>
public sealed record AskRescore(OffspringInfo Offspring, IActorRef Evaluator, LedgerView Population) : StewardEffect;

/// <summary>An acceptance is stored: record its recipe, let the member adopt, tell everyone the new version.</summary>
public sealed record Adopt(RecipeAccepted Accepted) : StewardEffect;

/// <summary>One decision: the event to store (null for a re-score request) and what to do once it is applied.</summary>
public sealed record StewardStep(object? Event, IReadOnlyList<StewardEffect> Effects);

/// <summary>
/// The steward's protocol as a pure state machine (docs/architecture.md §2): scores and failures arrive in any order,
/// decisions are made strictly in the order offspring were issued (so a seed and a config give one lineage whatever
/// the number and speed of evaluators), one acceptance at a time, each against the current population. <c>Offer</c>
/// and <see cref="Drain"/> are <c>(state, command) → (events, effects)</c>; <see cref="Apply"/> is
/// <c>(state, event) → state</c>. The actor persists the events, applies them, and then performs the effects, so
/// nothing is adopted or announced that is not stored.
/// </summary>
public sealed class StewardMachine(RunSettings settings)
{
    private readonly SortedDictionary<long, Outcome> _ready = [];
    private readonly Dictionary<long, int> _rescores = [];

    /// <summary>The persisted part: the ledger.</summary>
    public StewardState Ledger { get; set; } = new();

    /// <summary>The sequence number whose re-score is awaited (decisions wait for it), or null.</summary>
    public long? Rescoring { get; private set; }

    /// <summary>Set once the run stops taking decisions (a graceful stop, or no healthy evaluator).</summary>
    public bool Stopping { get; set; }

    /// <summary>Set while an admission or retirement is being made: no decision until its event is stored (or it is refused).</summary>
    public bool ChangingMembership { get; set; }

    /// <summary>Outcomes waiting for their turn.</summary>
    public int Waiting => _ready.Count;

    /// <summary>A scored or failed offspring waiting to be decided.</summary>
    private abstract record Outcome(OffspringInfo Offspring);

    private sealed record Scored(OffspringScored Message) : Outcome(Message.Offspring);

    private sealed record Lost(OffspringInfo Info, string Reason) : Outcome(Info);

    /// <summary>A score arrives. Effects to perform at once (nothing is stored by an offer); decisions come from <see cref="Drain"/>.</summary>
    public IReadOnlyList<StewardEffect> Offer(OffspringScored m)
    {
        var sequence = m.Offspring.Sequence;
        if (Ledger.Finished || Stopping)
        {
            return [new NotifyDecided(m.Offspring, m.EvaluatorRef, false, Decided: false)];
        }
        if (sequence < Ledger.NextSequence || (_ready.ContainsKey(sequence) && Rescoring != sequence))
        {
            return [new ReleaseCopy(m.Offspring, m.EvaluatorRef)]; // a re-issued copy of one decided or waiting already
        }
        if (Rescoring == sequence && m.ScoredAtVersion != Ledger.Version)
        {
            // A stale copy (its first evaluator went, and another scored it as bred): this evaluator holds it now.
            return [new AskRescore(m.Offspring, m.EvaluatorRef, Ledger.View())];
        }
        if (Rescoring == sequence)
        {
            Rescoring = null;
        }
        _ready[sequence] = new Scored(m);
        return [];
    }

    /// <summary>An offspring failed on every retry: it is decided in its turn as a failed evaluation.</summary>
    public IReadOnlyList<StewardEffect> Offer(OffspringLost m)
    {
        var sequence = m.Offspring.Sequence;
        if (Ledger.Finished || Stopping || sequence < Ledger.NextSequence)
        {
            return [new NotifyDecided(m.Offspring, null, false, Decided: false)];
        }
        if (Rescoring == sequence)
        {
            Rescoring = null;
        }
        _ready[sequence] = new Lost(m.Offspring, m.Reason);
        return [];
    }

    /// <summary>
    /// Decides the outcomes whose turn it is: a run of rejections and failures, ended by at most one acceptance (which
    /// changes the population the next decision compares against) or by a re-score request. Stops at the budget.
    /// Each step's effects are performed once its event (if any) is stored and applied, in order.
    /// </summary>
    public IReadOnlyList<StewardStep> Drain(DateTime now)
    {
        var steps = new List<StewardStep>();
        var ledger = Ledger;
        var maxEvaluations = ledger.Effective(settings).MaxEvaluations; // no event of this drain changes the budget
        while (Rescoring is null && !ChangingMembership && !Stopping && !ledger.Finished && ledger.Initialized)
        {
            // Every step so far holds one decision event (a re-score step ends the loop).
            var sequence = ledger.NextSequence + steps.Count;
            var evaluation = ledger.Evaluations + steps.Count + 1;
            if (evaluation > maxEvaluations || !_ready.Remove(sequence, out var outcome))
            {
                break;
            }
            var info = outcome.Offspring;
            if (outcome is Lost lost)
            {
                steps.Add(new StewardStep(new RecipeFailed(sequence, info.Target, info.Operator, lost.Reason, evaluation, now),
                    [new NotifyDecided(info, null, false, Decided: true)]));
                continue;
            }
            var m = ((Scored)outcome).Message;
            var decision = ledger.Decide(settings.Mode, info, m.Score, m.Guard, settings.Guard.Tolerance, m.ScoredAtVersion, _rescores.GetValueOrDefault(sequence));
            if (decision.Verdict == Verdict.Rescore)
            {
                _rescores[sequence] = _rescores.GetValueOrDefault(sequence) + 1;
                Rescoring = sequence;
                steps.Add(new StewardStep(null, [new AskRescore(info, m.EvaluatorRef, ledger.View())]));
                break;
            }
            _rescores.Remove(sequence);
            if (decision.Verdict == Verdict.Reject)
            {
                steps.Add(new StewardStep(new RecipeRejected(sequence, info.Target, info.Operator, m.Score, m.ScoredAtVersion, decision.Reason, evaluation, now, m.Guard),
                    [new NotifyDecided(info, m.EvaluatorRef, false, Decided: true, m.Score)]));
                continue;
            }
            var previous = settings.Mode == FitnessMode.Merged ? ledger.PopulationScore ?? double.NaN : ledger.SlotScores[info.Target];
            var guarded = ledger.SlotGuards is not null;
            // A coefficient candidate replaces the best merge, not a member.
            var replaced = info.Recipe.IsCoefficients ? ledger.SearchBest ?? "" : ledger.SlotWeights[info.Target];
            var accepted = new RecipeAccepted(ledger.Version + 1, info.Recipe, info.Id, replaced, m.ContentHash,
                m.Score, previous, evaluation, m.Evaluator, now,
                guarded ? m.Guard : null, guarded ? ledger.CurrentGuard(settings.Mode, info.Target) : null);
            steps.Add(new StewardStep(accepted, [new Adopt(accepted), new NotifyDecided(info, m.EvaluatorRef, true, Decided: true, m.Score)]));
            break; // the next decision compares against the population this one makes
        }
        return steps;
    }

    /// <summary>Folds a stored event into the ledger.</summary>
    public void Apply(object evt) => Ledger.Apply(evt);

    /// <summary>Everything still waiting, abandoned (the run ends): each is told it was not decided.</summary>
    public IReadOnlyList<StewardEffect> AbandonWaiting()
    {
        var effects = _ready.Values.Select(o => (StewardEffect)new NotifyDecided(o.Offspring, (o as Scored)?.Message.EvaluatorRef, false, Decided: false)).ToList();
        _ready.Clear();
        Rescoring = null;
        return effects;
    }
}
