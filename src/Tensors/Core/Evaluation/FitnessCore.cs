using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// What both fitness modes share: the owned scorer, the synced slots and version, and dev scores
/// of the members cached by weights id (an id always names the same weights) for the slots of the current version.
/// </summary>
internal sealed class FitnessCore : IDisposable
{
    private readonly Dictionary<(string Split, string Id), double> _memberScores = [];
    private (string Id, WeightSet Weights)[] _slots = [];
    private bool _disposed;

    public FitnessCore(ICandidateScorer scorer)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        if (!scorer.SplitNames.Contains(PopulationFitness.DevSplit, StringComparer.Ordinal))
        {
            throw new EvolverException(
                $"a fitness needs a '{PopulationFitness.DevSplit}' split to select on; the evaluator has {string.Join(", ", scorer.SplitNames)}");
        }
        Scorer = scorer;
    }

    public ICandidateScorer Scorer { get; }
    public long Version { get; private set; } = -1;
    public bool Synced { get; private set; }
    public IReadOnlyList<(string Id, WeightSet Weights)> Slots => _slots;

    /// <summary>Whether a sync to <paramref name="version"/> with <paramref name="slots"/> must rebuild rather than update.</summary>
    public bool NeedsRebuild(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots) =>
        !Synced || version < Version || slots.Count != _slots.Length;

    /// <summary>Checks a population handed to Sync: at least one slot, each with an id and weights.</summary>
    public void Validate(IReadOnlyList<(string Id, WeightSet Weights)> slots)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(slots);
        if (slots.Count == 0)
        {
            throw new EvolverException("a population to sync needs at least one slot");
        }
        for (var i = 0; i < slots.Count; i++)
        {
            if (string.IsNullOrEmpty(slots[i].Id) || slots[i].Weights is null)
            {
                throw new EvolverException($"slot {i} of the population has no weights id or no weights");
            }
        }
    }

    /// <summary>Records the synced population (a copy of the list; the weights stay the caller's) and drops cached scores of ids that left.</summary>
    public void Commit(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots)
    {
        _slots = [.. slots];
        Version = version;
        Synced = true;
        var current = _slots.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var key in _memberScores.Keys.Where(key => !current.Contains(key.Id)).ToList())
        {
            _memberScores.Remove(key);
        }
    }

    /// <summary>Forgets the population (after a failed sync), so the next Sync rebuilds.</summary>
    public void Reset()
    {
        _slots = [];
        _memberScores.Clear();
        Version = -1;
        Synced = false;
    }

    public void RequireSynced()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Synced)
        {
            throw new InvalidOperationException("the fitness has no population yet: call Sync first");
        }
    }

    public void RequireSlot(int slot)
    {
        RequireSynced();
        if (slot < 0 || slot >= _slots.Length)
        {
            throw new EvolverException($"slot {slot} is out of range: the population has {_slots.Length} slots");
        }
    }

    /// <summary>The dev score of <paramref name="weights"/> (what selection reads).</summary>
    public double DevScore(WeightSet weights) => Report(weights, PopulationFitness.DevSplit);

    public double Report(WeightSet weights, string split)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(split);
        return Scorer.Score(weights, split);
    }

    /// <summary>The scores of <paramref name="weights"/> on each of <paramref name="splits"/>, in order.</summary>
    public IReadOnlyList<double> Report(WeightSet weights, IReadOnlyList<string> splits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(splits);
        return Scorer.Score(weights, splits);
    }

    /// <summary>Each slot's own dev score, from the cache where the id was scored before.</summary>
    public IReadOnlyList<double> MemberScores() => MemberScores(PopulationFitness.DevSplit);

    /// <summary>Each slot's own score on <paramref name="split"/>, from the cache where the id was scored on it before.</summary>
    public IReadOnlyList<double> MemberScores(string split)
    {
        RequireSynced();
        var scores = new double[_slots.Length];
        for (var i = 0; i < _slots.Length; i++)
        {
            var (id, weights) = _slots[i];
            if (!_memberScores.TryGetValue((split, id), out var score))
            {
                score = Report(weights, split);
                weights.ReleasePages(); // a memory-mapped member's pages go back once it is scored
                _memberScores[(split, id)] = score;
            }
            scores[i] = score;
        }
        return scores;
    }

    /// <summary>The slot with the highest dev score (the lowest such slot on ties).</summary>
    public int BestSlot()
    {
        var scores = MemberScores();
        var best = 0;
        for (var i = 1; i < scores.Count; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }
        return best;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _slots = [];
        Scorer.Dispose();
    }
}
