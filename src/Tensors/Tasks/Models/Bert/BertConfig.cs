using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvolverActors.Tensors.Models.Bert;

/// <summary>
/// The shape of a BERT encoder, read from and written to a Hugging Face <c>config.json</c> (BertConfig's keys,
/// so the saved checkpoint opens in transformers as it is).
/// </summary>
public sealed record BertConfig
{
    public const string FileName = "config.json";

    [JsonPropertyName("model_type")]
    public string ModelType { get; init; } = "bert";

    [JsonPropertyName("architectures")]
    public IReadOnlyList<string> Architectures { get; init; } = ["BertModel"];

    [JsonPropertyName("vocab_size")]
    public int VocabSize { get; init; } = 30522;

    [JsonPropertyName("hidden_size")]
    public int HiddenSize { get; init; } = 384;

    [JsonPropertyName("num_hidden_layers")]
    public int NumHiddenLayers { get; init; } = 6;

    [JsonPropertyName("num_attention_heads")]
    public int NumAttentionHeads { get; init; } = 12;

    [JsonPropertyName("intermediate_size")]
    public int IntermediateSize { get; init; } = 1536;

    [JsonPropertyName("hidden_act")]
    public string HiddenAct { get; init; } = "gelu";

    [JsonPropertyName("hidden_dropout_prob")]
    public double HiddenDropoutProb { get; init; } = 0.1;

    [JsonPropertyName("attention_probs_dropout_prob")]
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    [JsonPropertyName("max_position_embeddings")]
    public int MaxPositionEmbeddings { get; init; } = 512;

    [JsonPropertyName("type_vocab_size")]
    public int TypeVocabSize { get; init; } = 2;

    [JsonPropertyName("initializer_range")]
    public double InitializerRange { get; init; } = 0.02;

    [JsonPropertyName("layer_norm_eps")]
    public double LayerNormEps { get; init; } = 1e-12;

    [JsonPropertyName("pad_token_id")]
    public int PadTokenId { get; init; }

    [JsonIgnore]
    public int HeadSize => HiddenSize / NumAttentionHeads;

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>Reads <c>config.json</c> from a file or from the directory holding it.</summary>
    public static BertConfig Read(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file))
        {
            throw new EvolverException($"{file}: no BERT config.json");
        }
        BertConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<BertConfig>(File.ReadAllText(file), Options);
        }
        catch (JsonException e)
        {
            throw new EvolverException($"{file}: not a valid config.json ({e.Message})", e);
        }
        return (config ?? throw new EvolverException($"{file}: empty config.json")).Validated(file);
    }

    /// <summary>Writes <c>config.json</c> into <paramref name="dir"/>; returns the file's path.</summary>
    public string Write(string dir)
    {
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, FileName);
        File.WriteAllText(file, JsonSerializer.Serialize(this, Options) + "\n");
        return file;
    }

    /// <summary>Checks what the encoder relies on; <paramref name="source"/> names the config in errors.</summary>
    public BertConfig Validated(string source)
    {
        if (ModelType != "bert")
        {
            throw new EvolverException($"{source}: model_type is '{ModelType}', expected 'bert'");
        }
        if (HiddenAct != "gelu")
        {
            throw new EvolverException($"{source}: hidden_act '{HiddenAct}' is not supported (only exact 'gelu')");
        }
        if (HiddenSize <= 0 || NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0)
        {
            throw new EvolverException($"{source}: hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        }
        if (NumHiddenLayers <= 0 || IntermediateSize <= 0 || VocabSize <= 0 || MaxPositionEmbeddings <= 0 || TypeVocabSize <= 0)
        {
            throw new EvolverException($"{source}: layer count, intermediate, vocabulary, position and type sizes must be positive");
        }
        return this;
    }
}
