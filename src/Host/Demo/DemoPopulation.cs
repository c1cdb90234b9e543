using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Demo;

/// <summary>
/// A tiny synthetic population standing in for real fine-tunes (real ones arrive with the model zoo): a random
/// BERT-shaped base, and members that each add their own sparse task vector to it. Also writes each member's
/// diagonal Fisher (larger where the member moved) and Gram matrices of its linear layers' inputs.
/// </summary>
internal static class DemoPopulation
{
    public sealed record Paths(string Base, IReadOnlyList<string> Members, IReadOnlyList<string> Fisher, IReadOnlyList<string> Grams);

    private const int Hidden = 64;
    private const int Layers = 4;

    public static Paths Create(string directory, int members, ulong seed)
    {
        Directory.CreateDirectory(directory);
        using var generator = new Generator(seed);
        using var baseWeights = Base(generator);
        var basePath = Save(directory, "base", baseWeights);
        var memberPaths = new List<string>();
        var fisherPaths = new List<string>();
        var gramPaths = new List<string>();
        for (var k = 0; k < members; k++)
        {
            using var member = baseWeights.Map((name, t) => DTypes.IsFloating(t.dtype) ? t + TaskVector(t, generator) : t.clone());
            using var fisher = WeightSet.Adopt([.. member.Entries().Where(e => DTypes.IsFloating(e.Tensor.dtype))
                .Select(e => (e.Name, (e.Tensor - baseWeights[e.Name]).square() + 1e-4f))]);
            using var grams = Grams(baseWeights, generator);
            memberPaths.Add(Save(directory, $"member-{k}", member));
            fisherPaths.Add(Save(directory, $"fisher-{k}", fisher, StatisticsKind.Fisher));
            gramPaths.Add(Save(directory, $"gram-{k}", grams, StatisticsKind.Gram));
        }
        return new Paths(basePath, memberPaths, fisherPaths, gramPaths);
    }

    private static WeightSet Base(Generator generator)
    {
        var entries = new List<(string, Tensor)>
        {
            ("embeddings.word_embeddings.weight", randn([512, Hidden], generator: generator) * 0.1f),
            ("embeddings.position_ids", arange(128, ScalarType.Int64).unsqueeze(0)),
        };
        for (var l = 0; l < Layers; l++)
        {
            entries.Add(($"encoder.layer.{l}.dense.weight", randn([Hidden, Hidden], generator: generator) * 0.1f));
            entries.Add(($"encoder.layer.{l}.dense.bias", zeros(Hidden)));
        }
        entries.Add(("classifier.weight", randn([8, Hidden], generator: generator) * 0.1f));
        entries.Add(("classifier.bias", zeros(8)));
        return WeightSet.Adopt(entries);
    }

    /// <summary>Each member changes a random 30 % of each tensor: its "skill".</summary>
    private static Tensor TaskVector(Tensor like, Generator generator)
    {
        var touched = rand(like.shape, generator: generator).lt_(0.3);
        return randn(like.shape, generator: generator).mul_(0.05f).mul_(touched);
    }

    /// <summary>XᵀX of 256 member-specific inputs for every 2-D linear weight [out, in].</summary>
    private static WeightSet Grams(WeightSet baseWeights, Generator generator) =>
        WeightSet.Adopt(baseWeights.Entries()
            .Where(e => e.Tensor.dim() == 2 && e.Name.EndsWith(".weight", StringComparison.Ordinal) && !e.Name.StartsWith("embeddings", StringComparison.Ordinal))
            .Select(e =>
            {
                var scale = rand([1, e.Tensor.shape[1]], generator: generator) + 0.5f;
                var inputs = randn([256, e.Tensor.shape[1]], generator: generator) * scale;
                return (e.Name, inputs.T.matmul(inputs));
            }).ToList());

    private static string Save(string directory, string name, WeightSet weights, StatisticsKind? statistics = null)
    {
        var path = Path.Combine(directory, name);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["created_by"] = "evolver demo" };
        Checkpoint.Save(path, weights, statistics is { } kind ? StatisticsFiles.Metadata(kind, metadata) : metadata);
        return path;
    }
}
