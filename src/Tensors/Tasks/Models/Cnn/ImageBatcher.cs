using EvolverActors.Tensors.Data;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Models.Cnn;

/// <summary>Stacks images into [B, 1, H, W], normalised with MNIST's mean and standard deviation.</summary>
public sealed class ImageBatcher : IBatcher
{
    private const float Mean = 0.1307f;
    private const float Std = 0.3081f;

    public ModelInput Make(LabelledSet set, IReadOnlyList<int> indices, Device device)
    {
        if (set is not ImageSet images)
        {
            throw new EvolverException($"the cnn family takes images, but split '{set.Name}' holds {set.GetType().Name}");
        }
        var pixels = images.Height * images.Width;
        var buffer = new float[indices.Count * pixels];
        for (var i = 0; i < indices.Count; i++)
        {
            images.Images[indices[i]].AsSpan().CopyTo(buffer.AsSpan(i * pixels, pixels));
        }
        var batch = tensor(buffer, [indices.Count, 1, images.Height, images.Width]).sub_(Mean).div_(Std);
        return new ModelInput(batch.to(device));
    }
}
