using static TorchSharp.torch;

namespace EvolverActors.Tensors.Models;

/// <summary>
/// One batch as a model sees it: images [B, 1, H, W], or token ids [B, L] with their attention mask [B, L]
/// (1 = real token) and token type ids [B, L].
/// </summary>
public sealed record ModelInput(Tensor Features, Tensor? AttentionMask = null, Tensor? TokenTypeIds = null)
{
    public long BatchSize => Features.shape[0];

    /// <summary>
    /// Set only on the batches a <see cref="Evaluation.ResidentEvaluator"/> keeps for its lifetime: a key unique within
    /// that evaluator, under which a model may keep activations of this batch (see <see cref="Bert.BertPrefixCache"/>).
    /// </summary>
    public int? ResidentKey { get; init; }
}

/// <summary>Turns examples of a labelled set into model inputs on a device (images to tensors, texts to token ids).</summary>
public interface IBatcher
{
    ModelInput Make(Data.LabelledSet set, IReadOnlyList<int> indices, Device device);

    /// <summary>
    /// The order in which an evaluator batches <paramref name="set"/> (scores do not depend on it): texts sorted by length
    /// pad less; the default is the set's own order.
    /// </summary>
    IReadOnlyList<int> EvaluationOrder(Data.LabelledSet set) => [.. Enumerable.Range(0, set.Count)];

    /// <summary>Examples per evaluation batch when the evaluator is not told: large enough to keep the cores busy.</summary>
    int EvaluationBatchSize => 256;
}
