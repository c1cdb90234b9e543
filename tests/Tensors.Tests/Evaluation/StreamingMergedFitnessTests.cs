using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Evaluation;

/// <summary>
/// Merged fitness under a memory budget (docs/architecture.md §3): every candidate is the full merge of the population
/// with the child in its slot, bit for bit, read from memory-mapped members.
/// </summary>
public sealed class StreamingMergedFitnessTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Scores by the hash of what it is given, and keeps that hash, so a test sees exactly which weights were scored.</summary>
    private sealed class RecordingScorer : ICandidateScorer
    {
        public List<string> Scored { get; } = [];
        public IReadOnlyCollection<string> SplitNames { get; } = [PopulationFitness.DevSplit];

        public double Score(WeightSet weights, string split)
        {
            Scored.Add(WeightHash.Of(weights));
            return Scored.Count;
        }

        public void Dispose()
        {
        }
    }

    private WeightSet Member(int seed, ScalarType dtype)
    {
        using var weights = WeightSet.Adopt(
        [
            ("layer.weight", randn(64, 33, generator: new Generator((ulong)seed)).to(dtype)),
            ("layer.bias", randn(33, generator: new Generator((ulong)seed + 100)).to(dtype)),
            ("head.steps", tensor(new long[] { seed })),
        ]);
        var path = _dir.File($"m{seed}-{dtype}");
        Checkpoint.Save(path, weights);
        return MappedCheckpoint.Open(path);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void A_candidate_is_the_full_average_with_the_child_in_its_slot(ScalarType dtype)
    {
        var members = Enumerable.Range(1, 4).Select(k => Member(k, dtype)).ToList();
        using var child = Member(9, dtype).Clone();
        var scorer = new RecordingScorer();
        using var fitness = new StreamingMergedFitness(scorer, "average");
        try
        {
            fitness.Sync(3, [.. members.Select((m, k) => ($"m{k}", m))]);
            fitness.ScorePopulation();
            fitness.ScoreCandidate(2, child);
            fitness.ScoreCandidate(0, child);

            using var population = MergeRegistry.Get("average").Merge(members, MergeInputs.None);
            using var withChildAt2 = MergeRegistry.Get("average").Merge([members[0], members[1], child, members[3]], MergeInputs.None);
            using var withChildAt0 = MergeRegistry.Get("average").Merge([child, members[1], members[2], members[3]], MergeInputs.None);
            Assert.Equal([WeightHash.Of(population), WeightHash.Of(withChildAt2), WeightHash.Of(withChildAt0)], scorer.Scored);
            using var fused = fitness.Fused();
            Assert.Equal(WeightHash.Of(population), WeightHash.Of(fused));
            Assert.False(fused.IsMapped);
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }
    }

    [Fact]
    public void Methods_without_an_incremental_update_work_too()
    {
        var members = Enumerable.Range(1, 3).Select(k => Member(k, ScalarType.Float32)).ToList();
        using var baseModel = Member(50, ScalarType.Float32);
        var scorer = new RecordingScorer();
        var inputs = new MergeInputs { Base = baseModel };
        using var fitness = new StreamingMergedFitness(scorer, "ties", inputs: inputs);
        try
        {
            fitness.Sync(0, [.. members.Select((m, k) => ($"m{k}", m))]);
            fitness.ScoreCandidate(1, members[0]);
            using var expected = MergeRegistry.Get("ties").Merge([members[0], members[0], members[2]], inputs);
            Assert.Equal(WeightHash.Of(expected), Assert.Single(scorer.Scored));
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }
    }
}
