using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Models;

/// <summary>The model families by stable name, and how to build a skeleton that fits a checkpoint.</summary>
public static class ModelFamilies
{
    public static IReadOnlyList<string> Names { get; } = [CnnClassifier.FamilyName, BertClassifier.FamilyName];

    /// <summary>
    /// An untrained model of <paramref name="family"/> shaped like <paramref name="weights"/> (class count from
    /// <c>classifier.weight</c>; cnn image side from <c>fc1.weight</c>; BERT sizes from <c>config.json</c> in
    /// <paramref name="checkpointDirectory"/>, and the naming, pooler and pooling of the checkpoint: see
    /// <see cref="BertClassifier.ForCheckpoint"/>). The skeleton loads the weights under their own names.
    /// </summary>
    public static ClassifierModel SkeletonFor(string family, WeightSet weights, string checkpointDirectory)
    {
        if (!weights.Contains("classifier.weight"))
        {
            throw new PopulationMismatchException($"{checkpointDirectory}: no 'classifier.weight': not a {family} classifier checkpoint");
        }
        var classes = (int)weights["classifier.weight"].shape[0];
        return family switch
        {
            CnnClassifier.FamilyName => new CnnClassifier(classes, CnnImageSide(weights, checkpointDirectory)),
            BertClassifier.FamilyName => BertClassifier.ForCheckpoint(BertConfig.Read(checkpointDirectory), weights),
            _ => throw new EvolverException($"unknown model family '{family}': known families are {string.Join(", ", Names)}"),
        };
    }

    private static int CnnImageSide(WeightSet weights, string checkpointDirectory)
    {
        if (!weights.Contains("fc1.weight"))
        {
            return CnnClassifier.DefaultImageSize; // loading names the missing tensor
        }
        var inputs = weights["fc1.weight"].shape[^1];
        return CnnClassifier.ImageSideFor(inputs)
            ?? throw new PopulationMismatchException($"{checkpointDirectory}: fc1.weight takes {inputs} inputs, which no square image size gives: not a cnn checkpoint");
    }
}
