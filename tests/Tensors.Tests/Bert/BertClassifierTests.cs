using EvolverActors.Tensors;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Onnx;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Bert;

/// <summary>The bert-classifier family on tiny shapes, plus the tokenizer and batcher on the real vocabulary.</summary>
public sealed class BertClassifierTests
{
    private static BertClassifier Tiny(int classes = 3, BertPooling pooling = BertPooling.Mean, bool pooler = false, long seed = 1)
    {
        manual_seed(seed);
        var model = new BertClassifier(BertAssets.TinyConfig, classes, pooling, pooler);
        model.eval();
        return model;
    }

    private static ModelInput Ids(long[,] ids)
    {
        var (rows, length) = (ids.GetLength(0), ids.GetLength(1));
        var flat = ids.Cast<long>().ToArray();
        return new ModelInput(tensor(flat, [rows, length]), tensor(flat.Select(i => i == 0 ? 0L : 1L).ToArray(), [rows, length]),
            zeros([rows, length], ScalarType.Int64));
    }

    [Fact]
    public void Tokenizer_gives_bert_base_uncased_ids()
    {
        Assert.Equal([101L, 7592, 2088, 102], BertAssets.Tokenizer.Encode("hello world"));
        Assert.Equal([101L, 7592, 1010, 2088, 999, 102], BertAssets.Tokenizer.Encode("Hello, WORLD!"));
        Assert.Equal([101L, 7592, 102], BertAssets.Tokenizer.Encode("hello world and more", maxLength: 3));
    }

    [Fact]
    public void Text_batcher_pads_to_the_longest_text_and_truncates_to_max_length()
    {
        var set = new TextSet("t", ["hello world", "the quick brown fox jumps over the lazy dog", "hi"], [0, 1, 0], ["neg", "pos"]);
        var batch = new TextBatcher(BertAssets.Tokenizer, maxLength: 6).Make(set, [2, 0], CPU);
        Assert.Equal([2L, 4], batch.Features.shape);
        Assert.Equal([101L, 7632, 102, 0, 101, 7592, 2088, 102], batch.Features.data<long>().ToArray());
        Assert.Equal([1L, 1, 1, 0, 1, 1, 1, 1], batch.AttentionMask!.data<long>().ToArray());
        Assert.Equal(0, batch.TokenTypeIds!.abs().sum().item<long>());

        var cut = new TextBatcher(BertAssets.Tokenizer, maxLength: 6).Make(set, [1], CPU);
        Assert.Equal([1L, 6], cut.Features.shape);
        Assert.Equal(102, cut.Features[0, 5].item<long>());

        var images = new ImageSet("img", [new float[4]], 2, 2, [0], ["a"]);
        Assert.Throws<EvolverException>(() => new TextBatcher(BertAssets.Tokenizer).Make(images, [0], CPU));
    }

    [Fact]
    public void Parameter_names_are_hugging_face_bert_names_plus_the_head()
    {
        using var model = Tiny(pooler: true);
        var expected = OnnxBertImporter.ExpectedNames(BertAssets.TinyConfig, hasPooler: true)
            .Concat(["classifier.weight", "classifier.bias"]).Order(StringComparer.Ordinal);
        Assert.Equal(expected, model.state_dict().Keys.Order(StringComparer.Ordinal));
        Assert.Equal([3L, 8], model.state_dict()["classifier.weight"].shape);
        Assert.Equal("bert-classifier", model.Family);

        // Every linear layer reports its input under its own weight name (what RegMean needs).
        var seen = new List<string>();
        model.ObserveLinearInputs((name, _) => seen.Add(name));
        using var scope = NewDisposeScope();
        model.forward(Ids(new long[,] { { 2, 5, 7 } }));
        Assert.Contains("encoder.layer.1.attention.self.query.weight", seen);
        Assert.Contains("encoder.layer.0.output.dense.weight", seen);
        Assert.Contains("classifier.weight", seen);
        Assert.Equal(2 * 6 + 1, seen.Count);   // pooler unused with mean pooling
    }

    [Theory]
    [InlineData(BertPooling.Mean)]
    [InlineData(BertPooling.Cls)]
    public void Forward_gives_logits_per_example_and_padding_does_not_change_them(BertPooling pooling)
    {
        using var model = Tiny(pooling: pooling, pooler: pooling == BertPooling.Cls);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var padded = model.forward(Ids(new long[,] { { 2, 5, 7, 9, 3 }, { 2, 11, 3, 0, 0 } }));
        Assert.Equal([2L, 3], padded.shape);
        var alone = model.forward(Ids(new long[,] { { 2, 11, 3 } }));
        Assert.True((padded[1] - alone[0]).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void Mean_pooling_averages_only_the_masked_in_tokens()
    {
        using var scope = NewDisposeScope();
        var hidden = tensor(new float[] { 1, 10, 3, 20, 100, 1000 }, [1, 3, 2]);
        var pooled = BertClassifier.MeanPool(hidden, tensor(new long[] { 1, 1, 0 }, [1, 3]));
        Assert.Equal([2f, 15f], pooled.data<float>().ToArray());
    }

    [Fact]
    public void Exported_weights_load_into_a_fresh_model_and_give_the_same_logits()
    {
        using var source = Tiny(seed: 1);
        using var target = Tiny(seed: 2);
        using var weights = source.ExportWeights();
        target.LoadWeights(weights);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = Ids(new long[,] { { 2, 5, 7, 3 } });
        Assert.True(source.forward(input).eq(target.forward(input)).all().item<bool>());

        using var other = new BertClassifier(BertAssets.TinyConfig with { IntermediateSize = 12 }, 3);
        Assert.Throws<PopulationMismatchException>(() => other.LoadWeights(weights));
    }

    [Fact]
    public void Head_on_a_pretrained_encoder_is_seeded_and_the_encoder_copied()
    {
        using var encoder = Tiny(pooler: true).ExportWeights();
        using var encoderOnly = Tensors.Weights.WeightSet.Adopt(encoder.Entries()
            .Where(e => !e.Name.StartsWith("classifier.", StringComparison.Ordinal)).Select(e => (e.Name, e.Tensor.clone())));
        using var a = BertClassifier.FromEncoder(encoderOnly, BertAssets.TinyConfig, classCount: 4, seed: 7);
        using var b = BertClassifier.FromEncoder(encoderOnly, BertAssets.TinyConfig, classCount: 4, seed: 7);
        using var c = BertClassifier.FromEncoder(encoderOnly, BertAssets.TinyConfig, classCount: 4, seed: 8);
        Assert.True(a.HasPooler);
        var (wa, wb, wc) = (a.state_dict()["classifier.weight"], b.state_dict()["classifier.weight"], c.state_dict()["classifier.weight"]);
        Assert.True(wa.eq(wb).all().item<bool>());
        Assert.False(wa.eq(wc).all().item<bool>());
        Assert.Equal(0, a.state_dict()["classifier.bias"].abs().sum().item<float>());
        Assert.True(a.state_dict()["encoder.layer.1.output.dense.weight"].eq(encoderOnly["encoder.layer.1.output.dense.weight"]).all().item<bool>());

        // A head among the encoder tensors is refused rather than silently overwritten.
        Assert.Throws<PopulationMismatchException>(() => BertClassifier.FromEncoder(encoder, BertAssets.TinyConfig, classCount: 3));
    }

    [Fact]
    public void Config_round_trips_through_config_json_and_rejects_other_models()
    {
        using var dir = new TempDir();
        BertAssets.TinyConfig.Write(dir.Path);
        var read = BertConfig.Read(dir.Path);
        Assert.Equal(BertAssets.TinyConfig with { Architectures = read.Architectures }, read);
        Assert.Equal(BertAssets.TinyConfig.Architectures, read.Architectures);
        File.WriteAllText(dir.File("config.json"), """{"model_type": "gpt2"}""");
        Assert.Throws<EvolverException>(() => BertConfig.Read(dir.Path));
    }
}
