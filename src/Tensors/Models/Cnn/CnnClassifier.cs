using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EvolverActors.Tensors.Models.Cnn;

/// <summary>
/// The <c>cnn</c> family: a small convolutional classifier for 28×28 one-channel images (~106 K parameters):
/// conv 3×3 (16) → ReLU → max-pool → conv 3×3 (32) → ReLU → max-pool → linear 1568→64 → ReLU → linear 64→classes.
/// </summary>
public sealed class CnnClassifier : ClassifierModel
{
    public const string FamilyName = "cnn";

#pragma warning disable IDE1006, CA1051 // field names are the checkpoint names
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly ObservedLinear fc1;
    private readonly ObservedLinear classifier;
#pragma warning restore IDE1006, CA1051

    public CnnClassifier(int classes = 10, int imageSize = 28) : base(FamilyName)
    {
        if (imageSize % 4 != 0)
        {
            throw new EvolverException($"cnn needs an image size divisible by 4, got {imageSize}");
        }
        ClassCount = classes;
        conv1 = Conv2d(1, 16, 3, padding: 1);
        conv2 = Conv2d(16, 32, 3, padding: 1);
        fc1 = new ObservedLinear(32 * (imageSize / 4) * (imageSize / 4), 64);
        classifier = new ObservedLinear(64, classes);
        RegisterComponents();
        NameObservedLinears();
    }

    public override string Family => FamilyName;
    public override int ClassCount { get; }

    public override Tensor forward(ModelInput input)
    {
        using var scope = NewDisposeScope();
        var x = functional.max_pool2d(functional.relu(conv1.forward(input.Features)), 2);
        x = functional.max_pool2d(functional.relu(conv2.forward(x)), 2);
        x = functional.relu(fc1.forward(x.flatten(1)));
        return classifier.forward(x).MoveToOuterDisposeScope();
    }
}
