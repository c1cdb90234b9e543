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
    /// <c>classifier.weight</c>; BERT sizes from <c>config.json</c> in <paramref name="checkpointDirectory"/>).
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
            CnnClassifier.FamilyName => new CnnClassifier(classes),
            BertClassifier.FamilyName => new BertClassifier(BertConfig.Read(checkpointDirectory), classes, BertPooling.Mean,
                weights.Contains("pooler.dense.weight")),
            _ => throw new EvolverException($"unknown model family '{family}': known families are {string.Join(", ", Names)}"),
        };
    }
}
