using System.Globalization;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Training;

namespace EvolverActors.Tensors.Tasks;

/// <summary>
/// Readers for the settings that several task kinds share (family, metric, training, files), on a
/// <see cref="Settings"/> section, with one-line errors naming the file and the full key.
/// </summary>
public static class TaskSettings
{
    /// <summary>The metrics a task can select on, by their setting names.</summary>
    public static IReadOnlyDictionary<string, Metric> Metrics { get; } = new Dictionary<string, Metric>(StringComparer.Ordinal)
    {
        ["accuracy"] = Evaluation.Metric.Accuracy,
        ["macro-f1"] = Evaluation.Metric.MacroF1,
    };

    /// <summary>The setting name of a metric (<c>accuracy</c>, <c>macro-f1</c>).</summary>
    public static string Name(Metric metric) => Metrics.First(kv => kv.Value == metric).Key;

    /// <summary><c>metric = accuracy | macro-f1</c>.</summary>
    public static Metric Metric(Settings section, Metric fallback) => section.Choice("metric", fallback, Metrics);

    /// <summary>
    /// The optional <c>family</c> key: a kind is scored by one model family, so the key may only repeat it
    /// (it documents the task file; a different family is refused).
    /// </summary>
    public static string Family(Settings section, string family)
    {
        var given = section.Text("family", family);
        return given == family ? family : throw section.Problem("family", $"= '{given}' is not possible here: this kind is scored by the '{family}' family");
    }

    /// <summary>A positive whole number.</summary>
    public static int Positive(Settings section, string key, int fallback) => section.Int(key, fallback, min: 1);

    /// <summary>A fraction in [0, 1].</summary>
    public static double Fraction(Settings section, string key, double fallback) => section.Double(key, fallback, 0, 1);

    /// <summary>
    /// Training settings in a sub-section (<c>{ epochs, batch-size, learning-rate, weight-decay, max-steps }</c>),
    /// each falling back to <paramref name="defaults"/>.
    /// </summary>
    public static TrainingOptions Training(Settings section, string key, TrainingOptions defaults)
    {
        var s = section.Section(key);
        var maxSteps = s.Long("max-steps", 0, min: 1, max: int.MaxValue);
        return defaults with
        {
            Epochs = Positive(s, "epochs", defaults.Epochs),
            BatchSize = Positive(s, "batch-size", defaults.BatchSize),
            LearningRate = s.Double("learning-rate", defaults.LearningRate, min: double.Epsilon),
            WeightDecay = s.Double("weight-decay", defaults.WeightDecay, min: 0),
            MaxSteps = s.Has("max-steps") ? (int)maxSteps : defaults.MaxSteps,
        };
    }

    /// <summary>
    /// A file or directory named by <paramref name="key"/>, as an absolute path: a relative path is taken from the
    /// directory of the settings' file (so a task file can sit next to its data). Null when absent.
    /// </summary>
    public static string? OptionalPath(Settings section, string key)
    {
        var text = section.OptionalText(key);
        if (text is null)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            throw section.Problem(key, "is empty");
        }
        return Path.IsPathRooted(text) ? Path.GetFullPath(text) : Path.GetFullPath(Path.Combine(BaseDirectory(section), text));
    }

    /// <summary>The directory relative paths of a section are taken from: its file's, else the working directory.</summary>
    public static string BaseDirectory(Settings section) =>
        File.Exists(section.Source) ? Path.GetDirectoryName(Path.GetFullPath(section.Source))! : Directory.GetCurrentDirectory();

    /// <summary>The common identity entries of a task: kind, family and metric.</summary>
    public static SortedDictionary<string, string> Identity(string kind, string family, Metric metric) => new(StringComparer.Ordinal)
    {
        ["kind"] = kind,
        ["family"] = family,
        ["metric"] = Name(metric),
    };

    /// <summary>Invariant text of a number, for identities.</summary>
    public static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Invariant text of a whole number, for identities.</summary>
    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
