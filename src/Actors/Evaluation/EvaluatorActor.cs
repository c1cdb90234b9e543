using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Messages;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Evaluation;

/// <summary>
/// Bound to one device, on its own thread (a pinned dispatcher): keeps the model skeleton and dev data resident
/// (through its <see cref="IPopulationFitness"/>), syncs to the newest population version before each score,
/// scores offspring it pulls from the breeder against the population each was bred from (or, asked to re-score, the
/// current one), and reports each score with the content hash of the weights it scored.
/// Failures are reported as messages, never thrown across actors. One that fails
/// <see cref="RunSettings.MaxConsecutiveFailures"/> scores in a row (or cannot set up its fitness) retires: it tells
/// the steward and the breeder why, and stops.
/// </summary>
public sealed class EvaluatorActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EvolverRuntime _runtime;
    private readonly string _name;
    private readonly Device _device;
    private readonly IActorRef _steward;
    private readonly IActorRef _breeder;
    /// <summary>
    /// Offspring scored and not decided yet, by id, with the content hash of what was scored. No weights are held: a
    /// re-score obtains the child again (cached, or rebuilt from its recipe, bit for bit).
    /// </summary>
    private readonly Dictionary<string, (OffspringInfo Info, string Hash)> _held = new(StringComparer.Ordinal);
    private readonly EvaluatorHealth _health;
    private List<WeightLease> _population = [];

    /// <summary>The population the fitness holds, and each ledger slot's index in it (-1: retired, not in the fitness).</summary>
    private LedgerView? _synced;
    private int[] _fitnessIndex = [];
    private IPopulationFitness? _fitness;
    private LedgerView? _ledger;
    private bool _awaitingWork;

    public EvaluatorActor(string name, Device device, IActorRef steward, IActorRef breeder)
    {
        _runtime = EvolverRuntime.Get(Context.System);
        (_name, _device, _steward, _breeder) = (name, device, steward, breeder);
        _health = new EvaluatorHealth(name, _runtime.Settings.MaxConsecutiveFailures);

        Receive<LedgerChanged>(m =>
        {
            Learn(m.Recipes);
            Observe(m.Ledger);
        });
        Receive<ScorePopulation>(m => ScoreInitial(m.Version));
        Receive<ScoreProposedPopulation>(ScoreProposed);
        Receive<EvaluateOffspring>(m =>
        {
            _awaitingWork = false;
            Evaluate(m.Offspring);
        });
        Receive<RescoreOffspring>(m =>
        {
            if (_held.TryGetValue(m.OffspringId, out var held) && !Rescore(held.Info, held.Hash, m.Population))
            {
                // The breeder retries it elsewhere; this evaluator lets go of it.
                _held.Remove(m.OffspringId);
                RetireIfDue();
            }
        });
        Receive<SingletonsMoved>(_ =>
        {
            // The new steward and breeder recovered from the journal and know nothing of this evaluator or of what it
            // holds: offspring scored for the lost steward are never decided, so they are let go (docs/architecture.md §4).
            _log.Info("{0}: the steward moved; registering again", _name);
            _held.Clear();
            _awaitingWork = false;
            _steward.Tell(new RegisterEvaluator(Self, _name));
            RequestWork(force: true);
        });
        Receive<OffspringDecided>(m =>
        {
            _held.Remove(m.OffspringId);
            if (m.Decided && !m.Accepted)
            {
                _runtime.Book.Remove(m.OffspringId); // never a parent (on a worker node nobody else forgets it)
            }
            Observe(m.Ledger);
            if (!m.Ledger.Finished)
            {
                // Generational: one at a time, in decision order (deterministic). Steady-state: credit freed.
                RequestWork(force: _runtime.Settings.Schedule == Schedule.Generational);
            }
        });
    }

    protected override void PreStart()
    {
        _runtime.Metrics?.EvaluatorStarted(_device.ToString(), _name);
        // The resident skeleton and data are built here, on this actor's own thread.
        try
        {
            _fitness = _runtime.FitnessFactory(_device);
        }
        catch (Exception e)
        {
            // Registered and retired at once, so the steward knows this device is out (not one it still waits for).
            _health.CouldNotStart(e.Message);
            _steward.Tell(new RegisterEvaluator(Self, _name));
            RetireIfDue();
            return;
        }
        Context.System.EventStream.Subscribe(Self, typeof(SingletonsMoved));
        _steward.Tell(new RegisterEvaluator(Self, _name));
        RequestWork(force: true);
    }

    private void RequestWork(bool force)
    {
        if (_health.Retired)
        {
            return;
        }
        // Scored offspring awaiting a decision are full weight sets in memory: a slow steward slows evaluators
        // down (evaluators.max-undecided) instead of filling memory.
        if (_awaitingWork || (!force && _held.Count >= _runtime.Settings.MaxUndecided))
        {
            return;
        }
        _awaitingWork = true;
        _breeder.Tell(new RequestWork(Self));
    }

    private void Observe(LedgerView ledger)
    {
        if (_ledger is null || ledger.Version >= _ledger.Version)
        {
            _ledger = ledger;
        }
    }

    /// <summary>
    /// Recipes of accepted offspring from the steward. On the coordinator the book has them already; on a worker node
    /// they are how this node rebuilds the members it has never seen (docs/architecture.md §4).
    /// </summary>
    private void Learn(IReadOnlyList<KnownRecipe>? recipes)
    {
        foreach (var known in recipes ?? [])
        {
            _runtime.Book.Add(known.WeightsId, known.Recipe, known.ContentHash);
        }
    }

    private static int _traceFirstOffspring;

    private void Evaluate(OffspringInfo info)
    {
        EvolverActors.Tensors.Diagnostics.StartupTrace.MarkFirst("first offspring to evaluate", ref _traceFirstOffspring);
        if (_runtime.WorkerNode && !_runtime.Book.TryGet(info.Id, out _, out _))
        {
            // Bred on another node: this node builds the child from its recipe (the breeder's copy stays there).
            _runtime.Book.Add(info.Id, info.Recipe);
        }
        WeightLease lease;
        try
        {
            lease = _runtime.Resident.Acquire(info.Id);
        }
        catch (Exception e)
        {
            // The offspring's weights are gone (not this device's fault): retried, but not counted against this evaluator.
            _breeder.Tell(new OffspringFailed(info, e.Message));
            RequestNext();
            return;
        }
        string hash;
        try
        {
            hash = WeightHash.Of(lease.Weights);
        }
        catch (Exception e)
        {
            lease.Dispose();
            _breeder.Tell(new OffspringFailed(info, $"{_name}: {Failed($"offspring {info.Id}", e)}"));
            RequestNext();
            return;
        }
        var scored = Score(info, lease, hash, info.BredFrom);
        lease.Dispose();
        // The breeder's hold on the child can go too: what is not cached is rebuilt from its recipe if needed again.
        _breeder.Tell(new OffspringTaken(info.Id));
        if (scored)
        {
            _held[info.Id] = (info, hash);
        }
        else if (RetireIfDue())
        {
            return;
        }
        RequestNext();
    }

    /// <summary>Scores a held offspring again, against <paramref name="population"/>, obtaining its weights anew.</summary>
    private bool Rescore(OffspringInfo info, string hash, LedgerView population)
    {
        WeightLease lease;
        try
        {
            lease = _runtime.Resident.Acquire(info.Id);
        }
        catch (Exception e)
        {
            _breeder.Tell(new OffspringFailed(info, $"{_name}: {Failed($"offspring {info.Id}", e)}"));
            return false;
        }
        using (lease)
        {
            return Score(info, lease, hash, population);
        }
    }

    /// <summary>Steady-state pulls the next offspring at once (within its credit), so the device never waits for a decision.</summary>
    private void RequestNext()
    {
        if (_runtime.Settings.Schedule == Schedule.SteadyState)
        {
            RequestWork(force: false);
        }
    }

    /// <summary>Scores the child against <paramref name="population"/> (a fixed population, so the score does not depend on timing).</summary>
    private bool Score(OffspringInfo info, WeightLease child, string hash, LedgerView population)
    {
        try
        {
            Sync(population);
            var watch = Stopwatch.StartNew();
            var guarded = _runtime.Settings.Guard.Enabled;
            // A coefficient candidate is a whole merge (docs/architecture.md §1): scored as it is, with no guard (refused in a search).
            var scores = info.Recipe.IsCoefficients
                ? [_fitness!.Report(child.Weights, PopulationFitness.DevSplit)]
                : _fitness!.ScoreCandidate(FitnessIndex(info.Target), child.Weights, guarded ? PopulationFitness.DevAndGuard : PopulationFitness.DevOnly);
            var (score, guard) = (scores[0], guarded ? scores[1] : (double?)null);
            _log.Debug("{0} scored {1} for slot {2}: {3:F4} in {4:F0} ms", _name, info.Id, info.Target, score, watch.Elapsed.TotalMilliseconds);
            _runtime.Metrics?.EvaluationTook(_device.ToString(), _name, watch.Elapsed);
            _health.Succeeded();
            _runtime.CountScored();
            _steward.Tell(new OffspringScored(info, score, _fitness.Version, hash, _name, Self, guard));
            return true;
        }
        catch (Exception e)
        {
            var error = Failed($"offspring {info.Id}", e);
            _breeder.Tell(new OffspringFailed(info, $"{_name}: {error}"));
            return false;
        }
        finally
        {
            LetPopulationGoIfBudgeted();
        }
    }

    /// <summary>Counts a failed score and logs it (one line: the first line of the error).</summary>
    private string Failed(string what, Exception e)
    {
        _health.Failed(e.Message);
        var error = _health.LastError!;
        _log.Warning("{0} failed on {1} ({2} in a row): {3}", _name, what, _health.ConsecutiveFailures, error);
        return error;
    }

    /// <summary>Once retired: says so to the steward and the breeder (its in-flight work goes to the others) and stops.</summary>
    private bool RetireIfDue()
    {
        if (_health.RetiredReason is not { } reason)
        {
            return false;
        }
        _log.Warning("{0}", reason);
        var retired = new EvaluatorRetired(Self, _name, reason);
        _steward.Tell(retired);
        _breeder.Tell(retired);
        Context.Stop(Self);
        return true;
    }

    /// <summary>Brings the fitness to <paramref name="ledger"/>'s population, holding leases on its weights while it uses them.</summary>
    /// <remarks>
    /// Only the slots in the population are synced (retired ones are not merged, nor scored); a version alone does not
    /// name a population, since a proposed admission or retirement that was refused used the next version number.
    /// </remarks>
    private void Sync(LedgerView ledger)
    {
        if (_synced is { } synced && _fitness!.Version == ledger.Version && _population.Count > 0
            && synced.SlotWeights.SequenceEqual(ledger.SlotWeights) && (synced.Retired ?? []).SequenceEqual(ledger.Retired ?? [])
            && (synced.Statistics ?? []).SequenceEqual(ledger.Statistics ?? []))
        {
            return;
        }
        var active = ledger.ActiveSlots();
        var leases = active.Select(slot => _runtime.Resident.Acquire(ledger.SlotWeights[slot])).ToList();
        try
        {
            _fitness!.Sync(ledger.Version, [.. leases.Select(l => (l.Id, l.Weights))], ledger.MemberKeys());
        }
        catch
        {
            leases.ForEach(l => l.Dispose());
            _synced = null;
            throw;
        }
        var old = _population;
        _population = leases;
        old.ForEach(l => l.Dispose());
        _synced = ledger;
        _fitnessIndex = [.. Enumerable.Repeat(-1, ledger.SlotWeights.Length)];
        for (var i = 0; i < active.Length; i++)
        {
            _fitnessIndex[active[i]] = i;
        }
    }

    /// <summary>A ledger slot's index in the synced fitness (which holds only the slots in the population).</summary>
    private int FitnessIndex(int slot) => slot < _fitnessIndex.Length && _fitnessIndex[slot] >= 0
        ? _fitnessIndex[slot]
        : throw new Tensors.EvolverException($"slot {slot} is not in the population this offspring is scored against (retired)");

    /// <summary>
    /// Under a memory budget the population's weights are let go after each use, so that adopted offspring can leave memory
    /// (they are mapped back from their files at the next Sync; docs/architecture.md §3). Without one they stay held.
    /// </summary>
    private void LetPopulationGoIfBudgeted()
    {
        if (_runtime.Settings.MaxResidentBytes <= 0)
        {
            return;
        }
        var old = _population;
        _population = [];
        old.ForEach(l => l.Dispose());
    }

    /// <summary>The run's initial scores; a failure counts like a failed offspring, and the steward asks another evaluator.</summary>
    private void ScoreInitial(long requested)
    {
        if (_health.Retired)
        {
            return;
        }
        try
        {
            Sync(_ledger ?? throw new InvalidOperationException("no population version received yet"));
            var version = _fitness!.Version;
            var merged = _runtime.Settings.Mode == FitnessMode.Merged;
            var guarded = _runtime.Settings.Guard.Enabled;
            var population = merged ? _fitness.ScorePopulation(guarded ? PopulationFitness.DevAndGuard : PopulationFitness.DevOnly) : null;
            double? populationScore = population?[0];
            double? populationGuard = guarded ? population?[1] : null;
            var slotScores = merged
                ? Enumerable.Repeat(populationScore ?? double.NaN, _runtime.Slots).ToArray()
                : _fitness.ScoreMembers().ToArray();
            var slotGuards = !guarded ? null
                : merged ? Enumerable.Repeat(populationGuard ?? double.NaN, _runtime.Slots).ToArray()
                : _fitness.ScoreMembers(PopulationFitness.GuardSplit).ToArray();
            _health.Succeeded();
            _steward.Tell(new PopulationScored(version, slotScores, populationScore, _name, slotGuards, populationGuard));
        }
        catch (Exception e)
        {
            var error = Failed("the initial population", e);
            _steward.Tell(new PopulationScoreFailed(requested, _name, Self, $"{_name}: {error}"));
            RetireIfDue();
        }
        finally
        {
            LetPopulationGoIfBudgeted();
        }
    }

    /// <summary>
    /// Scores a proposed admission or retirement (docs/architecture.md §6): the slot's member alone (individual mode) or S
    /// of the proposed population (merged mode). A failure here is the change's, not counted against this device.
    /// </summary>
    private void ScoreProposed(ScoreProposedPopulation m)
    {
        try
        {
            Sync(m.Population);
            var merged = _runtime.Settings.Mode == FitnessMode.Merged;
            double? populationScore = merged ? _fitness!.ScorePopulation() : null;
            var slotScore = merged ? populationScore!.Value
                : m.Population.IsRetired(m.Slot) ? double.NaN : _fitness!.ScoreMembers()[FitnessIndex(m.Slot)];
            _steward.Tell(new ProposedPopulationScored(m.Population.Version, m.Slot, slotScore, populationScore, _name));
        }
        catch (Exception e)
        {
            _log.Warning("{0} could not score the proposed population: {1}", _name, e.Message);
            _steward.Tell(new ProposedPopulationScoreFailed(m.Population.Version, _name, e.Message.Split('\n')[0]));
        }
        finally
        {
            LetPopulationGoIfBudgeted();
        }
    }

    protected override void PostStop()
    {
        _population.ForEach(l => l.Dispose());
        _fitness?.Dispose();
    }
}
