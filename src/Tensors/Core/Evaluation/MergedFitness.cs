using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// <c>merged</c> fitness (reference mode B): the population's fitness is S = dev score of X(population) for a merge
/// method X with an incremental update (average, fisher, regmean). The merged model is kept by an
/// <see cref="IncrementalMerge"/>: a Sync replaces the slots whose id changed (O(P) each), and an offspring is scored
/// by previewing X(population with slot := child) into one preallocated scratch set, loading it and scoring dev;
/// nothing about the population changes. The statistics in <see cref="MergeInputs"/> (Fisher, Gram) belong to the
/// slots, one set per slot, fixed for the run; they stay the caller's and must outlive this instance.
/// Owns its <see cref="ICandidateScorer"/>, the merge and the scratch; one owner thread.
/// </summary>
public sealed class MergedFitness : IPopulationFitness
{
    private readonly FitnessCore _core;
    private readonly IReadOnlyDictionary<string, string>? _parameters;
    private readonly MergeInputs _inputs;
    private IncrementalMerge? _merge;
    private WeightSet? _scratch;
    private double? _populationScore;

    /// <summary>
    /// Takes ownership of <paramref name="scorer"/> (if this throws, the caller keeps it). The method and its
    /// key=value parameters are checked here, so a bad configuration fails at start-up.
    /// </summary>
    public MergedFitness(
        ICandidateScorer scorer,
        string method,
        IReadOnlyDictionary<string, string>? parameters = null,
        MergeInputs? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        IncrementalMerge.RequireSupported(method);
        _ = MergeRegistry.Get(method, parameters); // validates the parameters now
        Method = method.ToLowerInvariant();
        _inputs = inputs ?? MergeInputs.None;
        RequireStatistics(Method, _inputs);
        _core = new FitnessCore(scorer);
        _parameters = parameters;
    }

    public string Mode => PopulationFitness.Merged;
    public long Version => _core.Version;

    /// <summary>The merge method X.</summary>
    public string Method { get; }

    /// <summary>Rebuilds the merge from the whole population (counted for tests and diagnostics).</summary>
    public int Rebuilds { get; private set; }

    public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots)
    {
        _core.Validate(slots);
        try
        {
            if (_merge is null || _core.NeedsRebuild(version, slots))
            {
                _populationScore = null;
                Rebuild(slots);
            }
            else
            {
                // Each changed slot's old weights are still the caller's until this returns; the updates are
                // linear and independent per slot, so applying them one after another is exact.
                var previous = _core.Slots;
                for (var i = 0; i < slots.Count; i++)
                {
                    if (!string.Equals(previous[i].Id, slots[i].Id, StringComparison.Ordinal))
                    {
                        _populationScore = null;
                        _merge.Replace(i, previous[i].Weights, slots[i].Weights);
                    }
                }
            }
        }
        catch
        {
            // A half-applied update leaves the merge unknown: drop it, so the next Sync rebuilds.
            _populationScore = null;
            DisposeMerge();
            _core.Reset();
            throw;
        }
        _core.Commit(version, slots);
    }

    public double ScoreCandidate(int slot, WeightSet child)
    {
        _core.RequireSlot(slot);
        var (merge, scratch) = State();
        merge.Preview(slot, _core.Slots[slot].Weights, child, scratch);
        return _core.DevScore(scratch);
    }

    public double ScorePopulation()
    {
        _core.RequireSynced();
        _populationScore ??= _core.DevScore(State().Merge.Merged);
        return _populationScore.Value;
    }

    public IReadOnlyList<double> ScoreMembers() => _core.MemberScores();

    public IReadOnlyCollection<string> Splits => _core.Scorer.SplitNames;

    public double Report(WeightSet weights, string split) => _core.Report(weights, split);

    public WeightSet Fused()
    {
        _core.RequireSynced();
        return State().Merge.Merged.Clone();
    }

    public void Dispose()
    {
        DisposeMerge();
        _core.Dispose();
    }

    /// <summary>Fisher and RegMean without any statistics would quietly be a plain average: refuse that.</summary>
    private static void RequireStatistics(string method, MergeInputs inputs)
    {
        var (kind, missing) = method switch
        {
            FisherMerge.MethodName => ("Fisher", inputs.Fisher is null),
            RegMeanMerge.MethodName => ("Gram", inputs.Grams is null),
            _ => ("", false),
        };
        if (missing)
        {
            throw new EvolverException(
                $"fitness mode '{PopulationFitness.Merged}' with merge method '{method}' needs {kind} statistics, one set per population slot; none were given");
        }
    }

    private void Rebuild(IReadOnlyList<(string Id, WeightSet Weights)> slots)
    {
        DisposeMerge();
        _merge = IncrementalMerge.Create(Method, [.. slots.Select(s => s.Weights)], _inputs, _parameters);
        _scratch = _merge.Merged.EmptyLike();
        Rebuilds++;
    }

    private (IncrementalMerge Merge, WeightSet Scratch) State() =>
        _merge is { } merge && _scratch is { } scratch
            ? (merge, scratch)
            : throw new InvalidOperationException("the fitness has no population yet: call Sync first");

    private void DisposeMerge()
    {
        _scratch?.Dispose();
        _scratch = null;
        _merge?.Dispose();
        _merge = null;
    }
}
