using static TorchSharp.torch;

namespace EvolverActors.Tensors.Models;

/// <summary>
/// One batch as a model sees it: images [B, 1, H, W], or token ids [B, L] with their attention mask [B, L]
/// (1 = real token) and token type ids [B, L].
/// </summary>
public sealed record ModelInput(Tensor Features, Tensor? AttentionMask = null, Tensor? TokenTypeIds = null)
{
    public long BatchSize => Features.shape[0];
}

/// <summary>Turns examples of a labelled set into model inputs on a device (images to tensors, texts to token ids).</summary>
public interface IBatcher
{
    ModelInput Make(Data.LabelledSet set, IReadOnlyList<int> indices, Device device);
}
