using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Training;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Zoo;

/// <summary>
/// Writes a zoo member's Fisher diagonal and Gram matrices next to its weights, computed once on its own
/// fine-tuning inputs (labels are not used: Fisher samples y from the model itself), for fisher/regmean merges.
/// </summary>
internal static class ZooStatistics
{
    public const string FisherFile = "fisher.safetensors";
    public const string GramFile = "gram.safetensors";

    public static void Save(ClassifierModel model, IBatcher batcher, LabelledSet data, string dir, int fisherExamples, int gramExamples, long seed, Device device)
    {
        if (fisherExamples > 0)
        {
            using var fisher = MergeStatistics.Fisher(model, batcher, data, fisherExamples, seed, device);
            StatisticsFiles.Save(Path.Combine(dir, FisherFile), fisher, StatisticsKind.Fisher);
        }
        if (gramExamples > 0)
        {
            using var grams = MergeStatistics.Grams(model, batcher, data, gramExamples, device);
            StatisticsFiles.Save(Path.Combine(dir, GramFile), grams, StatisticsKind.Gram);
        }
    }

    public static string? FisherPath(int k, int examples) => examples > 0 ? Path.Combine("models", $"model-{k}", FisherFile) : null;
    public static string? GramPath(int k, int examples) => examples > 0 ? Path.Combine("models", $"model-{k}", GramFile) : null;
}
