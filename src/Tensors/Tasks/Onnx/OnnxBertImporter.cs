using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Onnx;

/// <summary>An imported encoder: Hugging Face BertModel tensors (the caller owns them) and its config.</summary>
public sealed record BertImport(WeightSet Weights, BertConfig Config) : IDisposable
{
    public void Dispose() => Weights.Dispose();
}

/// <summary>
/// Turns a BERT encoder exported to ONNX by transformers/optimum back into a Hugging Face BertModel
/// checkpoint. Embeddings, LayerNorms and biases keep their names in the export; the linear weights were
/// folded into anonymous MatMul initializers stored [in, out]. Each is named after the bias its MatMul's
/// output is added to (<c>...query.bias</c> ⇒ <c>...query.weight</c>) and transposed to nn.Linear's [out, in].
/// </summary>
public static class OnnxBertImporter
{
    private const string WordEmbeddings = "embeddings.word_embeddings.weight";

    /// <summary>One of the NuGet-served encoders (12 heads each) with its vocabulary.</summary>
    public static BertImport Import(PretrainedEncoder encoder) =>
        Import(NuGetAssets.ReadModel(encoder), numAttentionHeads: 12, NuGetAssets.PackageId(encoder) + "/model.onnx");

    /// <summary>
    /// Imports an ONNX BERT encoder. The head count is not recoverable from weight shapes (it only shows
    /// in reshape constants), so the caller states it.
    /// </summary>
    public static BertImport Import(ReadOnlyMemory<byte> onnx, int numAttentionHeads, string source)
    {
        var graph = OnnxGraph.Parse(onnx, source);
        var named = NameInitializers(graph, source);
        var config = InferConfig(named, numAttentionHeads, source);
        var order = ExpectedNames(config, hasPooler: named.ContainsKey("pooler.dense.weight"));
        var missing = order.FirstOrDefault(n => !named.ContainsKey(n));
        if (missing is not null)
        {
            throw new EvolverException($"{source}: no initializer for '{missing}' (not a BERT encoder export?)");
        }
        var tensors = new List<(string, Tensor)>();
        try
        {
            foreach (var name in order)
            {
                var (initializer, transpose) = named[name];
                var tensor = initializer.ToTensor();
                tensors.Add((name, transpose ? TransposeOwned(tensor) : tensor));
            }
            return new BertImport(WeightSet.Adopt(tensors), config);
        }
        catch
        {
            tensors.ForEach(t => t.Item2.Dispose());
            throw;
        }
    }

    /// <summary>Writes model.safetensors, config.json and (when given) vocab.txt into <paramref name="dir"/>.</summary>
    public static IReadOnlyList<string> Save(BertImport import, string dir, byte[]? vocabulary = null)
    {
        var files = new List<string>(Checkpoint.Save(dir, import.Weights, new Dictionary<string, string> { ["format"] = "pt" }))
        {
            import.Config.Write(dir),
        };
        if (vocabulary is not null)
        {
            var vocabPath = Path.Combine(dir, "vocab.txt");
            File.WriteAllBytes(vocabPath, vocabulary);
            files.Add(vocabPath);
        }
        return files;
    }

    /// <summary>
    /// Hugging Face name → (initializer, needs transposing). Names are stripped of any prefix in front of
    /// <c>embeddings.</c> (a "bert." left by a task-model export).
    /// </summary>
    internal static Dictionary<string, (OnnxInitializer Initializer, bool Transpose)> NameInitializers(OnnxGraph graph, string source)
    {
        var floats = graph.Initializers.Values.Where(i => i.IsFloat).ToDictionary(i => i.Name, StringComparer.Ordinal);
        var word = floats.Keys.FirstOrDefault(n => n.EndsWith(WordEmbeddings, StringComparison.Ordinal))
            ?? throw new EvolverException($"{source}: no '{WordEmbeddings}' initializer (not a BERT encoder export?)");
        var prefix = word[..^WordEmbeddings.Length];
        string Strip(string name) => name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;

        var named = new Dictionary<string, (OnnxInitializer, bool)>(StringComparer.Ordinal);
        foreach (var initializer in floats.Values.Where(i => i.Name.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var name = Strip(initializer.Name);
            if (name.StartsWith("embeddings.", StringComparison.Ordinal) || name.StartsWith("encoder.", StringComparison.Ordinal)
                || name.StartsWith("pooler.", StringComparison.Ordinal))
            {
                named[name] = (initializer, false);
            }
        }

        // Who reads each value: a MatMul's output is found again as an input of the bias Add.
        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (Input: i, Node: n)))
            .ToLookup(p => p.Input, p => p.Node, StringComparer.Ordinal);
        foreach (var matMul in graph.Nodes.Where(n => n.OpType == "MatMul"))
        {
            var weight = matMul.Inputs.Select(i => floats.GetValueOrDefault(i)).FirstOrDefault(i => i is { Dims.Length: 2 });
            if (weight is null || matMul.Outputs.Count != 1)
            {
                continue;   // attention's activation × activation products
            }
            var bias = consumers[matMul.Outputs[0]].Where(n => n.OpType == "Add")
                .SelectMany(add => add.Inputs.Where(i => i != matMul.Outputs[0]))
                .Select(i => floats.GetValueOrDefault(i))
                .FirstOrDefault(b => b is not null && b.Name.EndsWith(".bias", StringComparison.Ordinal));
            if (bias is null)
            {
                throw new EvolverException($"{source}: MatMul weight '{weight.Name}' is not followed by a bias Add; cannot name it");
            }
            var name = Strip(bias.Name)[..^".bias".Length] + ".weight";
            if (named.ContainsKey(name))
            {
                throw new EvolverException($"{source}: two initializers would both be named '{name}'");
            }
            named[name] = (weight, true);
        }
        return named;
    }

    private static BertConfig InferConfig(Dictionary<string, (OnnxInitializer Initializer, bool Transpose)> named, int heads, string source)
    {
        long[] Dims(string name) => named.TryGetValue(name, out var entry)
            ? entry.Initializer.Dims
            : throw new EvolverException($"{source}: no initializer for '{name}' (not a BERT encoder export?)");
        var layers = named.Keys.Where(n => n.StartsWith("encoder.layer.", StringComparison.Ordinal))
            .Select(n => int.Parse(n.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture))
            .DefaultIfEmpty(-1).Max() + 1;
        var word = Dims(WordEmbeddings);
        return new BertConfig
        {
            VocabSize = (int)word[0],
            HiddenSize = (int)word[1],
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            // The weight is still [in, out] here: the intermediate size is the bias length.
            IntermediateSize = (int)Dims("encoder.layer.0.intermediate.dense.bias")[0],
            MaxPositionEmbeddings = (int)Dims("embeddings.position_embeddings.weight")[0],
            TypeVocabSize = (int)Dims("embeddings.token_type_embeddings.weight")[0],
        }.Validated(source);
    }

    /// <summary>BertModel's state-dict names in its own order (embeddings, layers, pooler).</summary>
    public static IReadOnlyList<string> ExpectedNames(BertConfig config, bool hasPooler)
    {
        var names = new List<string>
        {
            WordEmbeddings, "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
        };
        string[] modules =
        [
            "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm",
        ];
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            foreach (var module in modules)
            {
                names.Add($"encoder.layer.{i}.{module}.weight");
                names.Add($"encoder.layer.{i}.{module}.bias");
            }
        }
        if (hasPooler)
        {
            names.Add("pooler.dense.weight");
            names.Add("pooler.dense.bias");
        }
        return names;
    }

    private static Tensor TransposeOwned(Tensor tensor)
    {
        using (tensor)
        {
            using var view = tensor.t();
            return view.contiguous();
        }
    }
}
