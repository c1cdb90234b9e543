using Akka.Actor;
using Akka.Event;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Search;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Actors.Breeding;

/// <summary>
/// Builds offspring on its own thread and hands them to evaluators that ask (work pulling). What to issue, when,
/// from which population, retries and re-issues are the pure <see cref="BreederMachine"/>'s; this actor draws each
/// recipe (<see cref="RecipeDrawer"/>), builds the child with the deterministic kernel, keeps it resident until an
/// evaluator has scored it (after that it is a cache entry like any other, rebuilt from its recipe if needed and evicted),
/// and sends messages. Under a memory budget it builds only when the node's cache has room for another child next to
/// those in use (docs/architecture.md §3), so offspring built ahead never push a node over <c>memory.max-resident</c>.
/// </summary>
public sealed class BreederActor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;
    private readonly EvolverRuntime _runtime;
    private readonly IActorRef _steward;
    private readonly MutationOperator _operator;
    private readonly BreederMachine _machine;
    private readonly Dictionary<string, WeightLease> _leases = new(StringComparer.Ordinal);
    private readonly OffspringBuffers _buffers;
    private readonly CoefficientSearch? _search;
    private BuildOffspring? _waitingForRoom;
    private long _childBytes;

    public BreederActor(IActorRef steward)
    {
        _runtime = EvolverRuntime.Get(Context.System);
        _steward = steward;
        _operator = OperatorRegistry.Get(_runtime.Settings.Operator, _runtime.Settings.OperatorParameters);
        _search = CreateSearch(_runtime);
        _machine = new BreederMachine(_runtime.Settings, _runtime.Slots, _search?.GenerationSize);
        // Spare buffers live outside the cache's accounting, so a node under a memory budget keeps none.
        _buffers = new OffspringBuffers(_runtime.Settings.MaxResidentBytes > 0 ? 0 : 8);

        Receive<BreedFrom>(m => Perform(_machine.Start(m)));
        Receive<LedgerChanged>(m =>
        {
            _machine.PopulationChanged(m.Ledger);
            if (m.Ledger.Finished)
            {
                _machine.Stop();
            }
        });
        Receive<RequestWork>(m =>
        {
            Context.Watch(m.Evaluator);
            Perform(_machine.RequestWork(m.Evaluator));
        });
        Receive<OffspringFailed>(m =>
        {
            if (m.Offspring.Attempt + 1 < _runtime.Settings.MaxRetries)
            {
                // The evaluator has logged the failure already; one line per failure is enough.
                _log.Info("offspring {0} failed ({1}); retry {2} of {3}", m.Offspring.Id, m.Reason, m.Offspring.Attempt + 1, _runtime.Settings.MaxRetries - 1);
            }
            Perform(_machine.OnFailed(m.Offspring, m.Reason));
        });
        Receive<OffspringDecided>(m =>
        {
            if (!m.Accepted)
            {
                _runtime.Book.Remove(m.OffspringId); // never a parent: its recipe is not needed any more
            }
            else if (Budgeted && _leases.TryGetValue(m.OffspringId, out var accepted))
            {
                KeepAccepted(accepted, m.Ledger.Version);
            }
            Perform(_machine.OnDecided(m));
        });
        Receive<OffspringTaken>(m =>
        {
            // Under a budget the child stays held until decided, so an accepted one is spilled before the next is built.
            if (!Budgeted)
            {
                Perform([new ReleaseOffspring(m.OffspringId)]);
            }
        });
        Receive<RetryBuild>(_ => BuildWhenRoom());
        Receive<PauseBreeding>(m => Perform(_machine.Pause(m.Paused)));
        Receive<StopBreeding>(m =>
        {
            _machine.Stop();
            _log.Info("breeder stops: {0}", m.Reason);
        });
        Receive<Terminated>(t => Reissue(t.ActorRef, "is gone"));
        Receive<EvaluatorRetired>(m => Reissue(m.Evaluator, "was retired"));
    }

    protected override void PreStart() => _steward.Tell(new RegisterBreeder(Self));

    private void Reissue(IActorRef evaluator, string why)
    {
        var effects = _machine.EvaluatorGone(evaluator, out var reissued);
        if (reissued > 0)
        {
            _log.Warning("evaluator {0} {1}: {2} offspring re-issued", evaluator.Path.Name, why, reissued);
        }
        Perform(effects);
    }

    private void Perform(IReadOnlyList<BreederEffect> effects)
    {
        var pending = new Queue<BreederEffect>(effects);
        while (pending.TryDequeue(out var effect))
        {
            switch (effect)
            {
                case BuildOffspring b when !_runtime.Resident.HasRoomFor(_childBytes):
                    _waitingForRoom = b; // the machine builds one at a time: nothing else is issued meanwhile
                    Timers.StartSingleTimer(RetryBuild.Instance, RetryBuild.Instance, TimeSpan.FromMilliseconds(20));
                    break;
                case BuildOffspring b:
                    foreach (var next in _machine.Built(Build(b)))
                    {
                        pending.Enqueue(next);
                    }
                    break;
                case SendOffspring s:
                    s.Evaluator.Tell(new EvaluateOffspring(s.Offspring));
                    break;
                case GiveUp g:
                    _log.Warning("offspring {0} given up after {1} attempts (counted as a failed evaluation): {2}", g.Offspring.Id, g.Offspring.Attempt + 1, g.Reason);
                    _steward.Tell(new OffspringLost(g.Offspring, g.Reason));
                    break;
                case ReleaseOffspring r:
                    if (_leases.Remove(r.Id, out var lease))
                    {
                        lease.Dispose();
                    }
                    break;
                default:
                    throw new InvalidOperationException($"unknown breeder effect {effect.GetType().Name}");
            }
        }
        _runtime.Metrics?.BreederQueue(_machine.Ready);
    }

    private bool Budgeted => _runtime.Settings.MaxResidentBytes > 0;

    /// <summary>
    /// Writes an accepted child to the snapshot store before letting it go (what its member would do when adopting it),
    /// here, in order, so that the next child is never built while this one still needs memory (docs/architecture.md §3).
    /// </summary>
    private void KeepAccepted(WeightLease accepted, long version)
    {
        try
        {
            _runtime.Resident.Keep(accepted, version);
        }
        catch (Exception e) when (e is Tensors.EvolverException or IOException)
        {
            _log.Warning("accepted offspring {0} could not be written to the snapshot store ({1}); its member will try again", accepted.Id, e.Message);
        }
    }

    /// <summary>Builds the offspring that waited for room in the cache, once there is room (evaluators free theirs as they finish).</summary>
    private void BuildWhenRoom()
    {
        if (_waitingForRoom is { } b && !_machine.Stopped)
        {
            _waitingForRoom = null;
            Perform([b]);
        }
    }

    /// <summary>A coefficient search's candidate drawer (its dimension is the members' layers × members), or null when the run breeds.</summary>
    private static CoefficientSearch? CreateSearch(EvolverRuntime runtime)
    {
        if (!runtime.Settings.Search.Enabled)
        {
            return null;
        }
        using var first = runtime.Resident.Acquire(runtime.InitialWeights[0]);
        return new CoefficientSearch(CoefficientSearch.Dimensions(first.Weights.Names, runtime.Slots), runtime.Settings.Search.Sigma, runtime.Settings.Seed);
    }

    /// <summary>
    /// Draws offspring n's recipe (a coefficient search's candidate, replaying CMA-ES from the decided scores) and builds
    /// its child: bred into a reused buffer, or the candidate's merge of the members. It stays resident (leased) until decided.
    /// </summary>
    private OffspringInfo Build(BuildOffspring b)
    {
        var recipe = _search is null ? RecipeDrawer.Draw(_runtime.Settings, _operator, b.Sequence, b.From) : DrawCandidate(b);
        var id = recipe.ComputeId();
        _runtime.Book.Add(id, recipe);
        var leases = recipe.Inputs().Select(_runtime.Resident.Acquire).ToList();
        try
        {
            if (Budgeted)
            {
                _runtime.Resident.MakeRoomFor(_childBytes);
            }
            var inputs = leases.Select(l => l.Weights).ToList();
            var (child, recycle) = recipe.IsCoefficients
                ? (CoefficientChild.Build(recipe, inputs), null)
                : (BreedInto(recipe, inputs), (Action<WeightSet>)_buffers.Return);
            _childBytes = child.OwnedBytes;
            _leases[id] = _runtime.Resident.Register(id, child, recycle);
        }
        finally
        {
            leases.ForEach(l => l.Dispose());
        }
        return new OffspringInfo(id, recipe, b.From);
    }

    /// <summary>Candidate n of the coefficient search: its logits over the members of the population it is drawn from.</summary>
    private Recipe DrawCandidate(BuildOffspring b)
    {
        var active = b.From.ActiveSlots();
        var logits = _search!.Candidate(b.Sequence, b.SearchScores ?? []);
        return Recipe.ForCoefficients(b.Sequence, active, [.. active.Select(slot => b.From.SlotWeights[slot])], logits);
    }

    /// <summary>Breeds <paramref name="recipe"/>'s child from its inputs (target first) with the deterministic kernel.</summary>
    private WeightSet BreedInto(Recipe recipe, List<WeightSet> inputs)
    {
        var child = _buffers.Take(inputs[0]);
        try
        {
            OffspringBuilder.BuildInto(child, _operator, recipe.Settings(), recipe.Seed, inputs[0], [.. inputs.Skip(1)]);
        }
        catch
        {
            child.Dispose();
            throw;
        }
        return child;
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

    /// <summary>Looks again whether an offspring that waits for room in the cache can be built.</summary>
    private sealed class RetryBuild
    {
        public static readonly RetryBuild Instance = new();
    }
}
