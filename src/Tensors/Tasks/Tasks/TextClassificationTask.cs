using System.Text.Json;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Bert;

namespace EvolverActors.Tensors.Tasks;

/// <summary>Where a text-classification task reads its data, and how it tokenizes and scores it.</summary>
public sealed record TextClassificationSettings
{
    public required string Dev { get; init; }
    public string? Test { get; init; }
    public string? Ood { get; init; }

    /// <summary>Null: from each file's extension.</summary>
    public TextFormat? Format { get; init; }
    public string TextField { get; init; } = "text";
    public string LabelField { get; init; } = "label";

    /// <summary>Class names (class i = Labels[i]); null: the first member's config.json id2label / label2id, else whole numbers.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>Tokens per text, [CLS] and [SEP] included; null: 128, or the model's max_position_embeddings when smaller.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Null: do_lower_case of the first member's config.json / tokenizer_config.json, else on.</summary>
    public bool? Lowercase { get; init; }

    /// <summary>Null: the first member's vocab.txt.</summary>
    public string? Vocabulary { get; init; }
    public Metric Metric { get; init; } = Metric.Accuracy;

    /// <summary>Where the settings came from, for messages about them.</summary>
    public string Source { get; init; } = "task settings";
}

/// <summary>
/// The <c>text-classification</c> kind: labelled texts in JSONL or CSV files (dev, optionally test and ood), scored by
/// the <c>bert-classifier</c> family on checkpoints that carry <c>config.json</c> and <c>vocab.txt</c> (a Hugging Face
/// BertForSequenceClassification directory, or the project's own MiniLM zoos). Keys: <c>dev</c> (required),
/// <c>test</c>, <c>ood</c>, <c>format = jsonl | csv</c>, <c>text-field</c> (text), <c>label-field</c> (label),
/// <c>labels = [neg, pos]</c>, <c>max-length</c> (128), <c>lowercase</c>, <c>vocab</c>, <c>metric</c> (accuracy),
/// <c>family = bert-classifier</c>. Relative paths are taken from the task file's directory.
/// </summary>
public sealed class TextClassificationTask(TextClassificationSettings settings) : IEvaluationTask
{
    public const string Name = "text-classification";

    /// <summary>The registry entry.</summary>
    public static ITaskKind Kind { get; } = new TextClassificationKind();

    public TextClassificationSettings Settings { get; } = settings;
    string IEvaluationTask.Kind => Name;
    public string Family => BertClassifier.FamilyName;
    public Metric Metric => Settings.Metric;

    public IReadOnlyDictionary<string, string> Identity
    {
        get
        {
            var s = Settings;
            var identity = TaskSettings.Identity(Name, Family, Metric);
            identity["dev"] = s.Dev;
            identity["test"] = s.Test ?? "none";
            identity["ood"] = s.Ood ?? "none";
            identity["format"] = s.Format?.ToString().ToLowerInvariant() ?? "from the extension";
            identity["text-field"] = s.TextField;
            identity["label-field"] = s.LabelField;
            identity["labels"] = s.Labels is null ? "from the model" : string.Join(",", s.Labels);
            identity["max-length"] = s.MaxLength is { } length ? TaskSettings.Text(length) : "128 or the model's limit";
            identity["lowercase"] = s.Lowercase is { } lower ? (lower ? "on" : "off") : "from the model";
            identity["vocab"] = s.Vocabulary ?? "from the model";
            return identity;
        }
    }

    /// <summary>Reads the files; the tokenizer and the class names come from the first member where the settings do not give them.</summary>
    public TaskData Load(TaskLoadContext context)
    {
        var s = Settings;
        var directory = FirstMember.Directory(context.FirstMember);
        var labels = LabelMapFor(context.FirstMember, directory);
        var dev = Read("dev", s.Dev, labels);
        var test = s.Test is null ? null : Read("test", s.Test, labels);
        var ood = s.Ood is null ? null : Read("ood", s.Ood, labels);
        TextSet[] present = [dev, .. test is null ? [] : new[] { test }, .. ood is null ? [] : new[] { ood }];
        var classCount = labels.ClassCount ?? Math.Max(2, present.SelectMany(p => p.Labels).Max() + 1);
        var classNames = labels.ClassNames(classCount);
        FirstMember.RequireHead(context.FirstMember, classCount, classNames);
        return new TaskData(dev with { ClassNames = classNames }, test is null ? null : test with { ClassNames = classNames },
            ood is null ? null : ood with { ClassNames = classNames }, Batcher(directory));
    }

    private LabelMap LabelMapFor(string? member, string? directory)
    {
        if (Settings.Labels is { } names)
        {
            return LabelMap.Named(names, $"{Settings.Source}: labels");
        }
        var config = directory is null ? null : Path.Combine(directory, BertConfig.FileName);
        return config is not null && LabelMap.FromModelConfig(config) is { } fromModel
            ? LabelMap.Named(fromModel, $"{config} id2label")
            : LabelMap.Numbers(FirstMember.HeadClasses(member));
    }

    /// <summary>One split's examples (class names are set once every split is read).</summary>
    private TextSet Read(string split, string path, LabelMap labels)
    {
        var records = TextFiles.Read(path, TextFiles.FormatOf(path, Settings.Format), Settings.TextField, Settings.LabelField);
        return new TextSet(split, [.. records.Select(r => r.Text)], [.. records.Select(r => labels.Map(r.Label, r.Where))], []);
    }

    private TextBatcher Batcher(string? directory)
    {
        var vocabulary = Settings.Vocabulary
            ?? (directory is null
                ? throw new EvolverException($"{Settings.Source}: a {Name} task reads its tokenizer from the first population member's vocab.txt; there is no member here (or set vocab = FILE)")
                : Path.Combine(directory, WordPieceTokenizer.VocabularyFileName));
        if (!File.Exists(vocabulary))
        {
            throw new EvolverException($"{vocabulary}: no vocab.txt: a {Name} task needs the model's WordPiece vocabulary next to its weights (or vocab = FILE)");
        }
        var modelDirectory = directory ?? Path.GetDirectoryName(vocabulary);
        var lowercase = Settings.Lowercase
            ?? FirstMember.JsonValue(modelDirectory, "do_lower_case", BertConfig.FileName, "tokenizer_config.json") switch
            {
                { ValueKind: JsonValueKind.False } => false,
                _ => true,
            };
        var limit = FirstMember.JsonValue(modelDirectory, "max_position_embeddings", BertConfig.FileName) is { ValueKind: JsonValueKind.Number } positions
            && positions.TryGetInt32(out var n) ? n : int.MaxValue;
        if (Settings.MaxLength > limit)
        {
            throw new EvolverException($"{Settings.Source}: max-length = {Settings.MaxLength} is longer than the model's max_position_embeddings {limit}");
        }
        return new TextBatcher(WordPieceTokenizer.Load(vocabulary, lowercase), Settings.MaxLength ?? Math.Min(TextBatcher.DefaultMaxLength, limit));
    }

    private sealed class TextClassificationKind : ITaskKind
    {
        public string Name => TextClassificationTask.Name;

        public string Description => "labelled texts from JSONL or CSV files, scored by a bert-classifier (its own vocab.txt)";

        public IEvaluationTask Parse(Settings section, bool quick)
        {
            TaskSettings.Family(section, BertClassifier.FamilyName);
            var defaults = new TextClassificationSettings { Dev = "" };
            return new TextClassificationTask(new TextClassificationSettings
            {
                Dev = TaskSettings.OptionalPath(section, "dev") ?? throw section.Problem("dev", "is required: the dev (selection) data file"),
                Test = TaskSettings.OptionalPath(section, "test"),
                Ood = TaskSettings.OptionalPath(section, "ood"),
                Format = section.Has("format")
                    ? section.Choice("format", TextFormat.Jsonl, new Dictionary<string, TextFormat> { ["jsonl"] = TextFormat.Jsonl, ["csv"] = TextFormat.Csv })
                    : null,
                TextField = section.Text("text-field", defaults.TextField),
                LabelField = section.Text("label-field", defaults.LabelField),
                Labels = section.OptionalList("labels") is { Count: < 2 } ? throw section.Problem("labels", "must name at least two classes") : section.OptionalList("labels"),
                MaxLength = section.Has("max-length") ? section.Int("max-length", TextBatcher.DefaultMaxLength, min: 2, max: 4096) : null,
                Lowercase = section.Has("lowercase") ? section.Bool("lowercase", true) : null,
                Vocabulary = TaskSettings.OptionalPath(section, "vocab"),
                Metric = TaskSettings.Metric(section, defaults.Metric),
                Source = section.Source,
            });
        }
    }
}
