using System.Globalization;
using System.Text;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Tasks;

namespace EvolverActors.Tensors.Zoo;

/// <summary>
/// Writes a zoo's dev / test / ood splits as files in the data-driven formats under <c>&lt;zoo&gt;/data/</c>, plus a
/// ready-to-use task file <c>&lt;zoo&gt;/task.conf</c> (<c>evolver.task { kind = ... }</c>, absolute paths), so the
/// same data can be scored by the data-driven kinds or by an external evaluator. Images: IDX
/// (<c>dev-images.idx</c>, <c>dev-labels.idx</c>, ...; unsigned bytes where the pixels are multiples of 1/255, else
/// float32). Texts: JSONL (<c>dev.jsonl</c>, ... with fields <c>text</c> and <c>label</c>, the label a class name).
/// </summary>
public static class ZooDataExport
{
    public const string DataDirectory = "data";
    public const string TaskFileName = "task.conf";

    /// <summary>Writes the image splits and an <c>image-classification</c> task file; returns the task file's path.</summary>
    public static string WriteImages(string zoo, string recipe, IReadOnlyList<ImageSet> splits, Metric metric)
    {
        var data = Directory.CreateDirectory(Path.Combine(zoo, DataDirectory)).FullName;
        var lines = new List<string>();
        foreach (var split in splits)
        {
            var images = Path.Combine(data, $"{split.Name}-images.idx");
            var labels = Path.Combine(data, $"{split.Name}-labels.idx");
            IdxFiles.WriteImages(images, split.Images, split.Height, split.Width);
            IdxFiles.WriteLabels(labels, split.Labels);
            lines.Add($"  {split.Name} {{ images = {Quote(images)}, labels = {Quote(labels)} }}");
        }
        return WriteTask(zoo, recipe, ImageClassificationTask.Name, metric, splits[0].ClassNames, [], lines);
    }

    /// <summary>Writes the text splits and a <c>text-classification</c> task file; returns the task file's path.</summary>
    public static string WriteTexts(string zoo, string recipe, IReadOnlyList<TextSet> splits, Metric metric, int maxLength)
    {
        var data = Directory.CreateDirectory(Path.Combine(zoo, DataDirectory)).FullName;
        var lines = new List<string>();
        foreach (var split in splits)
        {
            var file = Path.Combine(data, $"{split.Name}.jsonl");
            TextFiles.WriteJsonl(file, split, namedLabels: true);
            lines.Add($"  {split.Name} = {Quote(file)}");
        }
        string[] settings =
        [
            "  text-field = text",
            "  label-field = label",
            $"  max-length = {maxLength.ToString(CultureInfo.InvariantCulture)}",
            "  # The tokenizer is the first member's vocab.txt; lower-casing follows its do_lower_case (else on).",
        ];
        return WriteTask(zoo, recipe, TextClassificationTask.Name, metric, splits[0].ClassNames, settings, lines);
    }

    private static string WriteTask(string zoo, string recipe, string kind, Metric metric, IReadOnlyList<string> classNames,
        IReadOnlyList<string> settings, IReadOnlyList<string> splits)
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"# The {recipe} zoo's splits as a data-driven {kind} task (written by evolver zoo build).\n")
            .Append("# Use it as a run's task (task = this file), or read the files under data/ with your own evaluator.\n")
            .Append("evolver.task {\n")
            .Append(CultureInfo.InvariantCulture, $"  kind = {kind}\n")
            .Append(CultureInfo.InvariantCulture, $"  metric = {TaskSettings.Name(metric)}\n")
            .Append(CultureInfo.InvariantCulture, $"  labels = [{string.Join(", ", classNames.Select(Quote))}]\n");
        foreach (var line in settings.Concat(splits))
        {
            text.Append(line).Append('\n');
        }
        text.Append("}\n");
        var path = Path.GetFullPath(Path.Combine(zoo, TaskFileName));
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>A HOCON (JSON) quoted string.</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
