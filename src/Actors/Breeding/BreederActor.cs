using Akka.Actor;
using Akka.Event;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Operators;

namespace EvolverActors.Actors.Breeding;

/// <summary>
/// Picks targets and parents, builds offspring on its device and hands them to evaluators that ask (work
/// pulling). Steady-state keeps at most <see cref="RunSettings.QueueCapacity"/> offspring built ahead; generational
/// builds one offspring per slot and waits until all of them are decided (the reference loop's barrier).
/// It holds a lease on every offspring until the steward's decision, and re-issues the work of an evaluator that dies.
/// </summary>
public sealed class BreederActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EvolverRuntime _runtime;
    private readonly IActorRef _steward;
    private readonly MutationOperator _operator;
    private readonly LinkedList<OffspringInfo> _ready = new();
    private readonly Queue<IActorRef> _waiting = new();
    private readonly Dictionary<string, (OffspringInfo Info, IActorRef Evaluator)> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WeightLease> _leases = new(StringComparer.Ordinal);
    private readonly HashSet<string> _generationOpen = new(StringComparer.Ordinal);
    private readonly OffspringBuffers _buffers = new();
    private LedgerView? _ledger;
    private Random _rng = new(0);
    private Queue<int> _targets = new();
    private int _generation = -1;
    private bool _stopped;

    public BreederActor(IActorRef steward)
    {
        _runtime = EvolverRuntime.Get(Context.System);
        _steward = steward;
        _operator = OperatorRegistry.Get(_runtime.Settings.Operator, _runtime.Settings.OperatorParameters);

        Receive<LedgerChanged>(m => OnLedger(m.Ledger));
        Receive<RequestWork>(m =>
        {
            Context.Watch(m.Evaluator);
            _waiting.Enqueue(m.Evaluator);
            Dispatch();
        });
        Receive<OffspringFailed>(OnFailed);
        Receive<OffspringDecided>(OnDecided);
        Receive<StopBreeding>(m =>
        {
            _stopped = true;
            _log.Info("breeder stops: {0}", m.Reason);
        });
        Receive<Terminated>(t => Reissue(t.ActorRef, "is gone"));
        Receive<EvaluatorRetired>(m => Reissue(m.Evaluator, "was retired"));
    }

    protected override void PreStart() => _steward.Tell(new RegisterBreeder(Self));

    private Schedule Schedule => _runtime.Settings.Schedule;

    private void OnLedger(LedgerView ledger)
    {
        var first = _ledger is null;
        _ledger = ledger;
        if (ledger.Finished)
        {
            _stopped = true;
            return;
        }
        if (first)
        {
            // Seeded from the run seed and the resume point, so a fresh run and a resumed one are both reproducible.
            _rng = new Random((int)(CounterRng.SplitMix64(_runtime.Settings.Seed ^ (ulong)ledger.Version * 0x9E3779B97F4A7C15UL) & 0x7FFFFFFF));
        }
        Fill();
        Dispatch();
    }

    private void Fill()
    {
        if (_ledger is null || _stopped)
        {
            return;
        }
        if (Schedule == Schedule.Generational)
        {
            if (_generationOpen.Count > 0 || _ready.Count > 0)
            {
                return;
            }
            // A new generation: every slot once, in a random order drawn from the generation's own seed.
            _generation++;
            _rng = new Random((int)(CounterRng.SplitMix64(_runtime.Settings.Seed + (ulong)_generation) & 0x7FFFFFFF));
            foreach (var target in Enumerable.Range(0, _ledger.SlotWeights.Length).OrderBy(_ => _rng.Next()).ToList())
            {
                Build(target);
            }
            return;
        }
        while (_ready.Count < _runtime.Settings.QueueCapacity)
        {
            Build(NextTarget());
        }
    }

    /// <summary>Steady-state targets: the slots in random order, again and again (as the reference loop visits them).</summary>
    private int NextTarget()
    {
        if (_targets.Count == 0)
        {
            _targets = new Queue<int>(Enumerable.Range(0, _ledger!.SlotWeights.Length).OrderBy(_ => _rng.Next()));
        }
        return _targets.Dequeue();
    }

    private void Build(int target)
    {
        var ledger = _ledger!;
        var recipe = OffspringRecipe.Draw(_operator, _runtime.Settings.Breeding, target, ledger.SlotScores, _rng);
        var id = $"o-{recipe.Seed:x16}";
        var ids = new[] { ledger.SlotWeights[target] }.Concat(recipe.Parents.Select(p => ledger.SlotWeights[p])).ToArray();
        var leases = ids.Select(_runtime.Resident.Acquire).ToList();
        try
        {
            var parents = leases.Skip(1).Select(l => l.Weights).ToList();
            var child = _buffers.Take(leases[0].Weights);
            try
            {
                OffspringBuilder.BuildInto(child, _operator, recipe.Settings, recipe.Seed, leases[0].Weights, parents);
            }
            catch
            {
                child.Dispose();
                throw;
            }
            _leases[id] = _runtime.Resident.Register(id, child, _buffers.Return);
        }
        finally
        {
            leases.ForEach(l => l.Dispose());
        }
        var s = recipe.Settings;
        var info = new OffspringInfo(id, target, ids[0], recipe.Parents, ids[1..], _operator.Name, s.F, s.CR,
            s.Crossover.ToString().ToLowerInvariant(), s.GuaranteeJRand, s.Granularity.ToString().ToLowerInvariant(), recipe.Seed,
            ledger.Version, Math.Max(_generation, 0));
        _ready.AddLast(info);
        if (Schedule == Schedule.Generational)
        {
            _generationOpen.Add(id);
        }
    }

    private void Dispatch()
    {
        while (_waiting.Count > 0 && _ready.Count > 0 && !_stopped)
        {
            var evaluator = _waiting.Dequeue();
            var info = _ready.First!.Value;
            _ready.RemoveFirst();
            _inFlight[info.Id] = (info, evaluator);
            evaluator.Tell(new EvaluateOffspring(info));
            Fill();
        }
    }

    private void OnFailed(OffspringFailed failed)
    {
        if (!_inFlight.Remove(failed.Offspring.Id))
        {
            return; // decided or re-issued meanwhile: nothing to retry
        }
        Retry(failed.Offspring, failed.Reason);
        Dispatch();
    }

    private void Retry(OffspringInfo info, string reason)
    {
        if (info.Attempt + 1 < _runtime.Settings.MaxRetries)
        {
            // The evaluator has logged the failure already; one warning per failure is enough.
            _log.Info("offspring {0} failed ({1}); retry {2} of {3}", info.Id, reason, info.Attempt + 1, _runtime.Settings.MaxRetries - 1);
            _ready.AddFirst(info with { Attempt = info.Attempt + 1 });
            return;
        }
        _log.Warning("offspring {0} given up after {1} attempts (counted as a failed evaluation): {2}", info.Id, info.Attempt + 1, reason);
        _steward.Tell(new OffspringLost(info, reason));
    }

    private void OnDecided(OffspringDecided decided)
    {
        _inFlight.Remove(decided.OffspringId);
        if (_ready.FirstOrDefault(o => o.Id == decided.OffspringId) is { } reissued)
        {
            _ready.Remove(reissued); // re-issued after its evaluator went, but decided meanwhile
        }
        if (_leases.Remove(decided.OffspringId, out var lease))
        {
            lease.Dispose();
        }
        _generationOpen.Remove(decided.OffspringId);
        _ledger = decided.Ledger.Version >= (_ledger?.Version ?? -1) ? decided.Ledger : _ledger;
        if (decided.Ledger.Finished)
        {
            _stopped = true;
        }
        Fill();
        Dispatch();
    }

    /// <summary>A dead or retired evaluator's offspring go back to the front of the queue for the others; it gets no more work.</summary>
    private void Reissue(IActorRef evaluator, string why)
    {
        var lost = _inFlight.Values.Where(v => v.Evaluator.Equals(evaluator)).Select(v => v.Info).ToList();
        foreach (var info in lost)
        {
            _inFlight.Remove(info.Id);
            _ready.AddFirst(info);
        }
        var waiting = _waiting.Where(e => !e.Equals(evaluator)).ToList();
        _waiting.Clear();
        waiting.ForEach(_waiting.Enqueue);
        if (lost.Count > 0)
        {
            _log.Warning("evaluator {0} {1}: {2} offspring re-issued", evaluator.Path.Name, why, lost.Count);
        }
        Dispatch();
    }

    protected override void PostStop()
    {
        foreach (var lease in _leases.Values)
        {
            lease.Dispose();
        }
        _leases.Clear();
        _buffers.Close();
    }
}
