using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// <c>individual</c> fitness (reference mode A): a member's fitness is its own dev score, an offspring is scored on
/// its own, and the output is the best member by dev. Member scores are cached by weights id.
/// Owns its <see cref="ICandidateScorer"/>; one owner thread.
/// </summary>
public sealed class IndividualFitness : IPopulationFitness
{
    private readonly FitnessCore _core;

    /// <summary>Takes ownership of <paramref name="scorer"/> (if this throws, the caller keeps it); it needs a dev split.</summary>
    public IndividualFitness(ICandidateScorer scorer) => _core = new FitnessCore(scorer);

    public string Mode => PopulationFitness.Individual;
    public long Version => _core.Version;

    public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey>? members = null)
    {
        _core.Validate(slots);
        if (_core.NeedsRebuild(version, slots))
        {
            _core.Reset();
        }
        _core.Commit(version, slots);
    }

    public double ScoreCandidate(int slot, WeightSet child) => ScoreCandidate(slot, child, PopulationFitness.DevOnly)[0];

    public double ScorePopulation() => ScoreMembers().Max();

    public IReadOnlyList<double> ScoreMembers() => _core.MemberScores();

    public IReadOnlyList<double> ScoreCandidate(int slot, WeightSet child, IReadOnlyList<string> splits)
    {
        _core.RequireSlot(slot);
        return _core.Report(child, splits);
    }

    public IReadOnlyList<double> ScorePopulation(IReadOnlyList<string> splits)
    {
        var best = _core.BestSlot();
        return [.. splits.Select(split => _core.MemberScores(split)[best])];
    }

    public IReadOnlyList<double> ScoreMembers(string split) => _core.MemberScores(split);

    public IReadOnlyCollection<string> Splits => _core.Scorer.SplitNames;

    public double Report(WeightSet weights, string split) => _core.Report(weights, split);

    public WeightSet Fused()
    {
        _core.RequireSynced();
        return _core.Slots[_core.BestSlot()].Weights.Clone();
    }

    public void Dispose() => _core.Dispose();
}
