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

    /// <summary>The image side the family is made for (MNIST's 28×28).</summary>
    public const int DefaultImageSize = 28;

#pragma warning disable IDE1006, CA1051 // field names are the checkpoint names
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly ObservedLinear fc1;
    private readonly ObservedLinear classifier;
#pragma warning restore IDE1006, CA1051

    public CnnClassifier(int classes = 10, int imageSize = DefaultImageSize) : base(FamilyName)
    {
        if (imageSize % 4 != 0)
        {
            throw new EvolverException($"cnn needs an image size divisible by 4, got {imageSize}");
        }
        ClassCount = classes;
        ImageSize = imageSize;
        conv1 = Conv2d(1, 16, 3, padding: 1);
        conv2 = Conv2d(16, 32, 3, padding: 1);
        fc1 = new ObservedLinear(32 * (imageSize / 4) * (imageSize / 4), 64);
        classifier = new ObservedLinear(64, classes);
        RegisterComponents();
        NameObservedLinears();
    }

    public override string Family => FamilyName;
    public override int ClassCount { get; }

    /// <summary>The side of the square images it takes.</summary>
    public int ImageSize { get; }

    /// <summary>
    /// The image side a checkpoint was made for, from the input width of its <c>fc1.weight</c> (32 · (side/4)²);
    /// null when no side fits.
    /// </summary>
    public static int? ImageSideFor(long fc1Inputs)
    {
        var quarter = (long)Math.Round(Math.Sqrt(fc1Inputs / 32.0));
        return quarter > 0 && 32 * quarter * quarter == fc1Inputs ? (int)(4 * quarter) : null;
    }

    public override Tensor forward(ModelInput input)
    {
        using var scope = NewDisposeScope();
        var x = functional.max_pool2d(functional.relu(conv1.forward(input.Features)), 2);
        x = functional.max_pool2d(functional.relu(conv2.forward(x)), 2);
        x = functional.relu(fc1.forward(x.flatten(1)));
        return classifier.forward(x).MoveToOuterDisposeScope();
    }
}
