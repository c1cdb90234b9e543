using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// <c>merged</c> fitness for a node under a memory budget (docs/architecture.md §3, members of any size): no merged
/// model, accumulator or statistics-weighted state is kept between calls. An offspring for slot i is scored by merging
/// X(population with slot i := child) from scratch, tensor by tensor, into one candidate buffer, letting each member's
/// memory-mapped pages go as soon as its tensor is merged; the population's score and the fused output are made the same
/// way. Resident memory is the candidate plus a few tensors, whatever N and the model size; the cost is O(N·P) reads per
/// evaluation instead of the resident merge's O(P). Every method of the registry works (the merge is the full one, so
/// <c>ties</c> and <c>dare</c> too), and the result is the full merge bit for bit, independent of the order of
/// acceptances. The statistics come from an <see cref="IMemberStatistics"/> (owned), per member. One owner thread.
/// </summary>
public sealed class StreamingMergedFitness : IPopulationFitness
{
    private readonly FitnessCore _core;
    private readonly IMergeMethod _method;
    private readonly IMemberStatistics _statistics;
    private MergeInputs _inputs = MergeInputs.None;
    private IReadOnlyList<MemberKey>? _members;
    private WeightSet? _candidate;
    private Tensor? _accumulator;
    private double? _populationScore;

    /// <summary>Takes ownership of <paramref name="scorer"/> (if this throws, the caller keeps it); <paramref name="inputs"/> stay the caller's.</summary>
    public StreamingMergedFitness(ICandidateScorer scorer, string method, IReadOnlyDictionary<string, string>? parameters = null, MergeInputs? inputs = null)
        : this(scorer, method, parameters, new FixedMemberStatistics(inputs ?? MergeInputs.None))
    {
    }

    /// <summary>As the other constructor, with the statistics looked up per member in <paramref name="statistics"/> (owned from here on).</summary>
    public StreamingMergedFitness(ICandidateScorer scorer, string method, IReadOnlyDictionary<string, string>? parameters, IMemberStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(statistics);
        _method = MergeRegistry.Get(method, parameters);
        _statistics = statistics;
        _core = new FitnessCore(scorer);
    }

    public string Mode => PopulationFitness.Merged;
    public long Version => _core.Version;
    public IReadOnlyCollection<string> Splits => _core.Scorer.SplitNames;

    public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey>? members = null)
    {
        _core.Validate(slots);
        members = MemberKeys.Of(slots.Count, members);
        if (!MemberKeys.Same(_members, members))
        {
            _members = null;
            _populationScore = null;
            _inputs = _statistics.For(members);
            _members = members;
        }
        var changed = !_core.Synced || slots.Count != _core.Slots.Count
            || slots.Where((s, i) => !string.Equals(s.Id, _core.Slots[i].Id, StringComparison.Ordinal)).Any();
        if (changed)
        {
            _populationScore = null;
        }
        _core.Commit(version, slots);
    }

    public double ScoreCandidate(int slot, WeightSet child) => ScoreCandidate(slot, child, PopulationFitness.DevOnly)[0];

    public double ScorePopulation()
    {
        _core.RequireSynced();
        _populationScore ??= _core.DevScore(MergeInto(Candidate(), [.. _core.Slots.Select(s => s.Weights)]));
        return _populationScore.Value;
    }

    public IReadOnlyList<double> ScoreMembers() => _core.MemberScores();

    public IReadOnlyList<double> ScoreCandidate(int slot, WeightSet child, IReadOnlyList<string> splits)
    {
        _core.RequireSlot(slot);
        var models = _core.Slots.Select(s => s.Weights).ToArray();
        models[slot] = child;
        return _core.Report(MergeInto(Candidate(), models), splits);
    }

    public IReadOnlyList<double> ScorePopulation(IReadOnlyList<string> splits)
    {
        _core.RequireSynced();
        if (splits.All(split => split == PopulationFitness.DevSplit))
        {
            return [.. splits.Select(_ => ScorePopulation())];
        }
        var scores = _core.Report(MergeInto(Candidate(), [.. _core.Slots.Select(s => s.Weights)]), splits);
        var dev = splits.ToList().IndexOf(PopulationFitness.DevSplit);
        if (dev >= 0)
        {
            _populationScore = scores[dev];
        }
        return scores;
    }

    public IReadOnlyList<double> ScoreMembers(string split) => _core.MemberScores(split);

    public double Report(WeightSet weights, string split) => _core.Report(weights, split);

    public WeightSet Fused()
    {
        _core.RequireSynced();
        var fused = _core.Slots[0].Weights.EmptyLike(device: CPU);
        try
        {
            return MergeInto(fused, [.. _core.Slots.Select(s => s.Weights)]);
        }
        catch
        {
            fused.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _candidate?.Dispose();
        _candidate = null;
        _accumulator?.Dispose();
        _accumulator = null;
        _statistics.Dispose();
        _core.Dispose();
    }

    /// <summary>The one candidate buffer, in memory of its own (never a mapped set), made at first use.</summary>
    private WeightSet Candidate() => _candidate ??= _core.Slots[0].Weights.EmptyLike();

    /// <summary>
    /// X(<paramref name="models"/>) into <paramref name="destination"/>, one tensor at a time (a merger other than the
    /// average needs every member's tensor at once: N tensors of mapped pages are resident while it merges one).
    /// </summary>
    private WeightSet MergeInto(WeightSet destination, IReadOnlyList<WeightSet> models)
    {
        using var merger = _method is AverageMerge ? null : _method.Begin(_inputs.Base is not null, destination.Device);
        for (var i = 0; i < destination.Count; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var name = destination.Names[i];
            if (merger is null)
            {
                AverageInto(destination[i], models, i, name);
            }
            else
            {
                foreach (var model in models)
                {
                    model.PrefetchPages(i);
                }
                destination[i].copy_(merger.Merge(TensorGroup.Of(models, _inputs, name), _inputs.Exclude));
                foreach (var model in models)
                {
                    model.ReleasePages(i); // the average released each member's tensor as soon as it was added
                }
            }
        }
        return destination;
    }

    /// <summary>
    /// The average's tensor as <see cref="AverageMerge"/> computes it (float32 zeros, then + model/N in model order, then
    /// rounded to the dtype), bit for bit, but in one reused float32 buffer: fresh temporaries per tensor cost page faults
    /// that dominate a merge of large models.
    /// </summary>
    private void AverageInto(Tensor destination, IReadOnlyList<WeightSet> models, int index, string name)
    {
        if (!MergeSupport.IsMerged(name, destination, _inputs))
        {
            destination.copy_(models[0][index]);
            models[0].ReleasePages(index);
            return;
        }
        var numel = destination.numel();
        if (_accumulator is null || _accumulator.numel() < numel || _accumulator.device_type != destination.device_type || _accumulator.device_index != destination.device_index)
        {
            _accumulator?.Dispose();
            _accumulator = empty(numel, ScalarType.Float32, destination.device);
            _accumulator.DetachFromDisposeScope();
        }
        var sum = _accumulator.narrow(0, 0, numel).view(destination.shape).zero_();
        var share = 1.0 / models.Count;
        foreach (var model in models)
        {
            model.PrefetchPages(index);
            MergeSupport.Accumulate(sum, model[index], share);
            model.ReleasePages(index); // one member's tensor resident at a time, not N of them
        }
        destination.copy_(sum);
    }
}
