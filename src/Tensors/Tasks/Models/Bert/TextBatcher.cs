using EvolverActors.Tensors.Data;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Models.Bert;

/// <summary>
/// Turns texts of a <see cref="TextSet"/> into BERT inputs: ids [B, L] with [CLS] … [SEP], padded with 0
/// ([PAD]) to the longest text of the batch, each cut to <see cref="MaxLength"/> tokens; attention mask
/// [B, L] (1 = real token); token type ids [B, L] all 0 (single-sentence tasks).
/// </summary>
public sealed class TextBatcher : IBatcher
{
    public const int DefaultMaxLength = 128;

    public TextBatcher(WordPieceTokenizer tokenizer, int maxLength = DefaultMaxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        Tokenizer = tokenizer;
        MaxLength = maxLength;
    }

    public WordPieceTokenizer Tokenizer { get; }
    public int MaxLength { get; }

    public ModelInput Make(LabelledSet set, IReadOnlyList<int> indices, Device device)
    {
        if (set is not TextSet texts)
        {
            throw new EvolverException($"set '{set.Name}' holds {set.GetType().Name} examples, but a text model needs texts");
        }
        return Make([.. indices.Select(i => texts.Texts[i])], device);
    }

    /// <summary>Shortest first (stable), so a batch pads to about its own texts' length rather than the set's longest.</summary>
    public IReadOnlyList<int> EvaluationOrder(LabelledSet set) => set is TextSet texts
        ? [.. Enumerable.Range(0, texts.Count).OrderBy(i => Tokenizer.Encode(texts.Texts[i], MaxLength).Length)]
        : [.. Enumerable.Range(0, set.Count)];

    /// <summary>
    /// 64 texts: a BERT layer's largest activation at 64 tokens (64·64·1536 floats, 25 MB) then stays under glibc's
    /// 32 MB mmap threshold, so it is reused rather than mapped afresh per batch (see HeapTuning).
    /// </summary>
    public int EvaluationBatchSize => 64;

    /// <summary>The batch for these texts, in order.</summary>
    public ModelInput Make(IReadOnlyList<string> texts, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfZero(texts.Count);
        var encoded = texts.Select(t => Tokenizer.Encode(t, MaxLength)).ToArray();
        var length = encoded.Max(e => e.Length);
        var ids = new long[texts.Count * length];
        var mask = new long[ids.Length];
        for (var row = 0; row < encoded.Length; row++)
        {
            encoded[row].CopyTo(ids, row * length);
            mask.AsSpan(row * length, encoded[row].Length).Fill(1);
        }
        long[] shape = [texts.Count, length];
        return new ModelInput(
            tensor(ids, shape, device: device),
            tensor(mask, shape, device: device),
            zeros(shape, ScalarType.Int64, device));
    }
}
