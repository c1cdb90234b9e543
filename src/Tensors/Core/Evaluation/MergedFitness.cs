using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// <c>merged</c> fitness (reference mode B): the population's fitness is S = dev score of X(population) for a merge
/// method X with an incremental update (average, fisher, regmean, linear). The merged model is kept by an
/// <see cref="IncrementalMerge"/>: a Sync replaces the slots whose id changed (O(P) each), and an offspring is scored
/// by previewing X(population with slot := child) into one preallocated scratch set, loading it and scoring dev;
/// nothing about the population changes. The statistics (Fisher, Gram) belong to the ledger slots, one set per member,
/// and come from an <see cref="IMemberStatistics"/>. A change of membership updates the merge in place too where the
/// method allows it (average, fisher: one member added after the others, or one other than the first removed), and
/// rebuilds it with the new members' statistics otherwise (regmean, whose S⁻¹ changes; docs/architecture.md §6).
/// Owns its <see cref="ICandidateScorer"/>, the statistics source, the merge and the scratch; one owner thread.
/// </summary>
public sealed class MergedFitness : IPopulationFitness
{
    private readonly FitnessCore _core;
    private readonly IReadOnlyDictionary<string, string>? _parameters;
    private readonly IMemberStatistics _statistics;
    private MergeInputs _inputs = MergeInputs.None;
    private IReadOnlyList<MemberKey>? _members;
    private IncrementalMerge? _merge;
    private WeightSet? _scratch;
    private double? _populationScore;

    /// <summary>
    /// Takes ownership of <paramref name="scorer"/> (if this throws, the caller keeps it). The method and its
    /// key=value parameters are checked here, so a bad configuration fails at start-up. <paramref name="inputs"/> stay
    /// the caller's: their statistics are the starting slots' (a population that changes membership needs the other
    /// constructor).
    /// </summary>
    public MergedFitness(
        ICandidateScorer scorer,
        string method,
        IReadOnlyDictionary<string, string>? parameters = null,
        MergeInputs? inputs = null)
        : this(scorer, method, parameters, new FixedMemberStatistics(inputs ?? MergeInputs.None))
    {
        RequireStatistics(Method, inputs ?? MergeInputs.None, null);
    }

    /// <summary>As the other constructor, with the statistics looked up per member in <paramref name="statistics"/> (owned from here on).</summary>
    public MergedFitness(ICandidateScorer scorer, string method, IReadOnlyDictionary<string, string>? parameters, IMemberStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(statistics);
        IncrementalMerge.RequireSupported(method);
        _ = MergeRegistry.Get(method, parameters); // validates the parameters now
        Method = method.ToLowerInvariant();
        _core = new FitnessCore(scorer);
        _parameters = parameters;
        _statistics = statistics;
    }

    public string Mode => PopulationFitness.Merged;
    public long Version => _core.Version;

    /// <summary>The merge method X.</summary>
    public string Method { get; }

    /// <summary>Rebuilds the merge from the whole population (counted for tests and diagnostics).</summary>
    public int Rebuilds { get; private set; }

    public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey>? members = null)
    {
        _core.Validate(slots);
        members = MemberKeys.Of(slots.Count, members);
        try
        {
            var membershipChanged = !MemberKeys.Same(_members, members);
            if (_merge is null || !_core.Synced || version < _core.Version || (membershipChanged && !TryChangeMembers(slots, members))
                || (!membershipChanged && _core.NeedsRebuild(version, slots)))
            {
                _populationScore = null;
                Rebuild(slots, members);
            }
            else if (membershipChanged)
            {
                _populationScore = null;
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
            _members = null;
            _core.Reset();
            throw;
        }
        _core.Commit(version, slots);
    }

    public double ScoreCandidate(int slot, WeightSet child) => ScoreCandidate(slot, child, PopulationFitness.DevOnly)[0];

    public double ScorePopulation()
    {
        _core.RequireSynced();
        _populationScore ??= _core.DevScore(State().Merge.Merged);
        return _populationScore.Value;
    }

    public IReadOnlyList<double> ScoreMembers() => _core.MemberScores();

    public IReadOnlyList<double> ScoreCandidate(int slot, WeightSet child, IReadOnlyList<string> splits)
    {
        _core.RequireSlot(slot);
        var (merge, scratch) = State();
        merge.Preview(slot, _core.Slots[slot].Weights, child, scratch);
        return _core.Report(scratch, splits);
    }

    public IReadOnlyList<double> ScorePopulation(IReadOnlyList<string> splits)
    {
        _core.RequireSynced();
        return [.. splits.Select(split => split == PopulationFitness.DevSplit ? ScorePopulation() : _core.Report(State().Merge.Merged, split))];
    }

    public IReadOnlyList<double> ScoreMembers(string split) => _core.MemberScores(split);

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
        _statistics.Dispose();
        _core.Dispose();
    }

    /// <summary>Fisher and RegMean without any statistics would quietly be a plain average: refuse that.</summary>
    /// <remarks><paramref name="members"/>: when known, the statistics must be one set per member.</remarks>
    private static void RequireStatistics(string method, MergeInputs inputs, int? members)
    {
        var (kind, sets) = method switch
        {
            FisherMerge.MethodName => ("Fisher", inputs.Fisher),
            RegMeanMerge.MethodName => ("Gram", inputs.Grams),
            _ => ("", null),
        };
        if (kind.Length > 0 && sets is null)
        {
            throw new EvolverException(
                $"fitness mode '{PopulationFitness.Merged}' with merge method '{method}' needs {kind} statistics, one set per population slot; none were given");
        }
        if (sets is not null && members is { } count && sets.Count != count)
        {
            throw new EvolverException($"merge method '{method}': {sets.Count} sets of {kind} statistics for {count} members");
        }
    }

    private void Rebuild(IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey> members)
    {
        DisposeMerge(); // before the statistics source lets go of the sets the old merge reads
        _members = null;
        _inputs = _statistics.For(members);
        RequireStatistics(Method, _inputs, members.Count);
        _members = members;
        _merge = IncrementalMerge.Create(Method, [.. slots.Select(s => s.Weights)], _inputs, _parameters);
        _scratch = _merge.Merged.EmptyLike();
        Rebuilds++;
    }

    /// <summary>
    /// One member added after the others, or one other than the first removed, with any acceptances into the members that
    /// stay: updated in place (O(P) per change) when the merge method allows it. False, with the merge unchanged, when it
    /// cannot (the caller rebuilds).
    /// </summary>
    private bool TryChangeMembers(IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey> members)
    {
        var merge = _merge!;
        var before = _members!;
        var previous = _core.Slots;
        if (members.Count == before.Count + 1 && members.Take(before.Count).SequenceEqual(before))
        {
            // The members that stay first (their old weights are still the caller's), then the new one.
            var inputs = _statistics.For(members);
            var statistics = (inputs.Fisher ?? inputs.Grams)?[^1];
            if (!merge.CanAddMember(statistics))
            {
                return false;
            }
            ReplaceChanged(merge, previous, slots, before.Count, i => i);
            merge.TryAdd(slots[^1].Weights, statistics);
            _inputs = inputs;
            _members = members;
            return true;
        }
        if (members.Count == before.Count - 1 && before.Count > 1)
        {
            var gone = Enumerable.Range(0, before.Count).FirstOrDefault(p => before.Where((_, i) => i != p).SequenceEqual(members), -1);
            if (gone <= 0 || !merge.CanRemoveMember)
            {
                return false;
            }
            ReplaceChanged(merge, previous, slots, slots.Count, i => i < gone ? i : i + 1);
            merge.TryRemove(gone, previous[gone].Weights);
            _inputs = _statistics.For(members); // lets the removed member's statistics go: the merge no longer reads them
            _members = members;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Replaces, in place, each of the <paramref name="staying"/> members whose weights changed; new position i was old
    /// position <paramref name="old"/>(i).
    /// </summary>
    private static void ReplaceChanged(IncrementalMerge merge, IReadOnlyList<(string Id, WeightSet Weights)> previous,
        IReadOnlyList<(string Id, WeightSet Weights)> slots, int staying, Func<int, int> old)
    {
        for (var i = 0; i < staying; i++)
        {
            var from = old(i);
            if (!string.Equals(previous[from].Id, slots[i].Id, StringComparison.Ordinal))
            {
                merge.Replace(from, previous[from].Weights, slots[i].Weights);
            }
        }
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
