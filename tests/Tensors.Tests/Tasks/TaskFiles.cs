using System.Text.Json;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Evaluation;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Tasks;

/// <summary>
/// Small files for the data-driven task kinds, written by the tests: a tiny BERT checkpoint with config.json and a
/// vocab.txt of a few words (own or Hugging Face names), a tiny cnn checkpoint, IDX files and PNG class folders.
/// </summary>
internal static class TaskFiles
{
    public static readonly string[] Words = ["good", "bad", "great", "awful", "film", "movie", "the", "plot", "was", "is", "fun", "dull"];

    /// <summary>vocab.txt: the special tokens, then <see cref="Words"/>.</summary>
    public static readonly string[] Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. Words];

    /// <summary>A tiny BERT (hidden 32, 2 layers, 4 heads) over <see cref="Vocabulary"/>.</summary>
    public static BertConfig TinyBert { get; } = new()
    {
        VocabSize = Vocabulary.Length,
        HiddenSize = 32,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        IntermediateSize = 64,
        MaxPositionEmbeddings = 64,
        TypeVocabSize = 2,
    };

    /// <summary>A random tiny BERT classifier with a pooler, its weights in the project's own names (the caller owns them).</summary>
    public static WeightSet BertWeights(int classes, long seed)
    {
        manual_seed(seed);
        using var model = new BertClassifier(TinyBert, classes, BertPooling.Mean, hasPooler: true);
        return model.ExportWeights();
    }

    /// <summary>
    /// A checkpoint directory: model.safetensors, config.json (plus <paramref name="configExtras"/>, e.g. id2label) and
    /// vocab.txt. With <paramref name="huggingFace"/> the names are BertForSequenceClassification's, with its
    /// position_ids buffer.
    /// </summary>
    public static string BertCheckpoint(string dir, WeightSet weights, bool huggingFace = false, Dictionary<string, object>? configExtras = null,
        bool vocabulary = true)
    {
        if (huggingFace)
        {
            var renamed = weights.Entries().Select(e => (e.Name.StartsWith("classifier.", StringComparison.Ordinal) ? e.Name : "bert." + e.Name, e.Tensor))
                .Append(("bert.embeddings.position_ids", arange(TinyBert.MaxPositionEmbeddings, dtype: ScalarType.Int64).unsqueeze(0)));
            SafetensorsWriter.Write(Path.Combine(Directory.CreateDirectory(dir).FullName, Checkpoint.SingleFileName), renamed);
        }
        else
        {
            Checkpoint.Save(dir, weights);
        }
        var config = JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(TinyBert.Write(dir)))!;
        foreach (var (key, value) in configExtras ?? [])
        {
            config[key] = value;
        }
        if (huggingFace)
        {
            config["architectures"] = new[] { "BertForSequenceClassification" };
        }
        File.WriteAllText(Path.Combine(dir, BertConfig.FileName), JsonSerializer.Serialize(config));
        if (vocabulary)
        {
            File.WriteAllLines(Path.Combine(dir, WordPieceTokenizer.VocabularyFileName), Vocabulary);
        }
        return dir;
    }

    /// <summary>A random cnn checkpoint for <paramref name="classes"/> classes of <paramref name="side"/>×<paramref name="side"/> images.</summary>
    public static string CnnCheckpoint(string dir, int classes, int side = 28, long seed = 1)
    {
        manual_seed(seed);
        using var model = new CnnClassifier(classes, side);
        using var weights = model.ExportWeights();
        Checkpoint.Save(dir, weights);
        return dir;
    }

    /// <summary>Band images (class c: a bright band at row 2c + 2) as IDX image and label files; returns their paths.</summary>
    public static (string Images, string Labels, ImageSet Set) Idx(TempDir temp, string name, int count, int classes, int seed, bool gzip = false)
    {
        var set = SyntheticImages.Bands(name, count, classes, seed);
        var suffix = gzip ? ".idx.gz" : ".idx";
        var (images, labels) = (temp.File($"{name}-images{suffix}"), temp.File($"{name}-labels{suffix}"));
        IdxFiles.WriteImages(images, set.Images, set.Height, set.Width);
        IdxFiles.WriteLabels(labels, set.Labels);
        return (images, labels, set);
    }

    /// <summary>Band images as PNG class folders DIR/&lt;class name&gt;/&lt;i&gt;.png; returns the folder.</summary>
    public static string PngFolder(string dir, ImageSet set, IReadOnlyList<string> classNames)
    {
        for (var i = 0; i < set.Count; i++)
        {
            PngFolders.WritePng(Path.Combine(dir, classNames[set.Labels[i]], $"{i:D4}.png"), set.Images[i], set.Height, set.Width);
        }
        return dir;
    }

    /// <summary>Writes a task file with an <c>evolver.task</c> section holding <paramref name="body"/>; returns its path.</summary>
    public static string TaskFile(TempDir temp, string body, string name = "task.conf")
    {
        var path = temp.File(name);
        File.WriteAllText(path, "evolver.task {\n" + body + "\n}\n");
        return path;
    }
}
