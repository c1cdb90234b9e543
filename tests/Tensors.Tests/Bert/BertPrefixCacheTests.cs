using System.Text;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Tasks;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Bert;

/// <summary>
/// A BERT classifier in a resident evaluator runs the bottom layers that candidates share once per batch: every
/// candidate still gets its own logits, a changed bottom layer drops the cache, and training never reads it.
/// </summary>
public sealed class BertPrefixCacheTests : IDisposable
{
    private static readonly BertConfig Config = TaskFiles.TinyBert with { NumHiddenLayers = 3 };
    private readonly WeightSet _base;
    private readonly List<WeightSet> _members = [];
    private readonly TextBatcher _batcher;
    private readonly TextSet _texts;

    public BertPrefixCacheTests()
    {
        manual_seed(11);
        using (var model = new BertClassifier(Config, 2))
        {
            _base = model.ExportWeights();
        }
        // Members as a fine-tuning with frozen-layers = 2 makes them: only the top layer and the head move.
        for (var k = 0; k < 3; k++)
        {
            _members.Add(Perturbed(_base, name => name.StartsWith("encoder.layer.2.", StringComparison.Ordinal) || name.StartsWith("classifier.", StringComparison.Ordinal), 100 + k));
        }
        _batcher = new TextBatcher(WordPieceTokenizer.FromVocabulary(Encoding.UTF8.GetBytes(string.Join('\n', TaskFiles.Vocabulary))), maxLength: 16);
        string[] texts = ["good film", "the plot was dull and the movie was awful", "great", "fun movie is fun", "bad bad plot", "the film was great fun"];
        _texts = new TextSet("dev", texts, [1, 0, 1, 1, 0, 1], ["negative", "positive"]);
    }

    public void Dispose()
    {
        _base.Dispose();
        _members.ForEach(m => m.Dispose());
    }

    private static WeightSet Perturbed(WeightSet source, Func<string, bool> moves, long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        return source.Map((name, tensor) => moves(name) ? tensor + (randn(tensor.shape, generator: generator) * 0.05f) : tensor.clone());
    }

    private ModelInput[] Batches(bool keyed) =>
        [.. _texts.Texts.Chunk(3).Select((chunk, i) => _batcher.Make(chunk, CPU) with { ResidentKey = keyed ? i : null })];

    private static Tensor Logits(BertClassifier model, IEnumerable<ModelInput> batches)
    {
        using var noGrad = no_grad();
        return cat([.. batches.Select(model.forward)], 0);
    }

    /// <summary>
    /// The same logits up to kernel scheduling (the cached path runs the same operations on the same shapes); members'
    /// logits differ by about 0.1, so this still tells one member's weights from another's.
    /// </summary>
    private static bool Same(Tensor actual, Tensor expected) => actual.allclose(expected, rtol: 0, atol: 1e-6);

    /// <summary>A model that has scored members 0 and 1 on keyed batches: its cache holds the shared layers' output.</summary>
    private (BertClassifier Model, ModelInput[] Batches) Warmed()
    {
        var model = new BertClassifier(Config, 2);
        model.eval();
        var batches = Batches(keyed: true);
        model.LoadWeights(_members[0]);
        Logits(model, batches).Dispose();
        model.LoadWeights(_members[1]);
        Logits(model, batches).Dispose();
        return (model, batches);
    }

    /// <summary>The logits of a model without any cache: the reference every cached answer must match.</summary>
    private Tensor Reference(WeightSet weights)
    {
        using var plain = new BertClassifier(Config, 2);
        plain.LoadWeights(weights);
        plain.eval();
        return Logits(plain, Batches(keyed: false));
    }

    [Fact]
    public void Members_that_share_their_bottom_layers_are_each_scored_by_their_own_weights_from_one_cached_prefix()
    {
        using var model = new BertClassifier(Config, 2);
        model.eval();
        var batches = Batches(keyed: true);
        foreach (var member in _members.Concat(_members))
        {
            model.LoadWeights(member);
            Assert.True(Same(Logits(model, batches), Reference(member)), "cached logits differ from the member's own");
        }
        Assert.Equal(2, model.CachedLayers);
        Assert.Equal(batches.Length, model.CachedBatches);
    }

    [Fact]
    public void A_candidate_whose_bottom_layer_moved_drops_the_cache_and_is_scored_by_its_own_bottom_layer()
    {
        var (model, batches) = Warmed();
        using var owned = model;
        Assert.Equal(2, model.CachedLayers);

        using var lowMoved = Perturbed(_members[1], name => name.StartsWith("encoder.layer.0.", StringComparison.Ordinal), 7);
        model.LoadWeights(lowMoved);
        Assert.Equal(0, model.CachedBatches);
        Assert.True(Same(Logits(model, batches), Reference(lowMoved)), "a moved bottom layer was not used");

        // Back to a member: its own bottom layers are loaded again, so it scores as it did.
        model.LoadWeights(_members[2]);
        Assert.True(Same(Logits(model, batches), Reference(_members[2])));
    }

    [Fact]
    public void A_merge_rounds_the_shared_layers_by_ulps_and_still_reads_the_cache_within_that_rounding()
    {
        var (model, batches) = Warmed();
        using var owned = model;

        using var merged = new LinearMerge(new LinearOptions { Weights = [0.3, 0.3, 0.4] }).Merge(_members, MergeInputs.None);
        var rounded = merged.Names.Where(n => n.StartsWith("encoder.layer.0.", StringComparison.Ordinal))
            .Any(n => !merged[n].equal(_base[n]).all().item<bool>());
        Assert.True(rounded, "the test needs a merge that rounds the shared layers");
        model.LoadWeights(merged);
        Assert.Equal(2, model.CachedLayers);
        Assert.Equal(batches.Length, model.CachedBatches);
        Assert.True(Logits(model, batches).allclose(Reference(merged), rtol: 0, atol: 1e-5), "cached merge logits are off by more than rounding");
    }

    [Fact]
    public void Training_and_unkeyed_batches_never_read_the_cache()
    {
        var (model, batches) = Warmed();
        using var owned = model;
        Assert.Equal(batches.Length, model.CachedBatches);

        model.train();
        using (var trainingLogits = model.forward(batches[0]))
        {
            Assert.Equal(0, model.CachedBatches);
        }
        model.eval();
        Assert.True(Same(Logits(model, Batches(keyed: false)), Reference(_members[1])));
        Assert.Equal(0, model.CachedBatches);
    }

    [Fact]
    public void A_text_evaluator_batches_shortest_first_so_batches_pad_less()
    {
        var order = _batcher.EvaluationOrder(_texts);
        var lengths = order.Select(i => _batcher.Tokenizer.Encode(_texts.Texts[i], _batcher.MaxLength).Length).ToList();
        Assert.Equal(lengths.Order(), lengths);
        Assert.Equal(Enumerable.Range(0, _texts.Count), order.Order());
    }
}
