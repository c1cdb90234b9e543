using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;

namespace EvolverActors.Tensors.Tasks;

/// <summary>One split of an image task: IDX files (<c>images</c> + <c>labels</c>) or a folder per class of PNGs (<c>dir</c>).</summary>
public sealed record ImageSplitSource(string? Images, string? Labels, string? Directory)
{
    public override string ToString() => Directory ?? $"{Images} + {Labels}";
}

/// <summary>Where an image-classification task reads its data, and how it scores it.</summary>
public sealed record ImageClassificationSettings
{
    public required ImageSplitSource Dev { get; init; }
    public ImageSplitSource? Test { get; init; }
    public ImageSplitSource? Ood { get; init; }

    /// <summary>Class names (class i = Labels[i]); null: sorted class folders (PNG), or "0".."K-1" (IDX).</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    public Metric Metric { get; init; } = Metric.Accuracy;
    public string Source { get; init; } = "task settings";
}

/// <summary>
/// The <c>image-classification</c> kind: one-channel images scored by the <c>cnn</c> family. Each split (<c>dev</c>,
/// optionally <c>test</c> and <c>ood</c>) is a section with IDX files, <c>{ images = FILE, labels = FILE }</c> (MNIST's
/// format, optionally gzipped), or a folder per class of PNG files, <c>{ dir = DIR }</c> (converted to grayscale, in
/// [0, 1]). Also: <c>labels = [...]</c> (class names), <c>metric</c> (accuracy), <c>family = cnn</c>. Images must have
/// the side the cnn takes (28, or what the first member's fc1 implies); other sizes are refused.
/// </summary>
public sealed class ImageClassificationTask(ImageClassificationSettings settings) : IEvaluationTask
{
    public const string Name = "image-classification";

    /// <summary>The registry entry.</summary>
    public static ITaskKind Kind { get; } = new ImageClassificationKind();

    public ImageClassificationSettings Settings { get; } = settings;
    string IEvaluationTask.Kind => Name;
    public string Family => CnnClassifier.FamilyName;
    public Metric Metric => Settings.Metric;

    public IReadOnlyDictionary<string, string> Identity
    {
        get
        {
            var identity = TaskSettings.Identity(Name, Family, Metric);
            identity["dev"] = Settings.Dev.ToString();
            identity["test"] = Settings.Test?.ToString() ?? "none";
            identity["ood"] = Settings.Ood?.ToString() ?? "none";
            identity["labels"] = Settings.Labels is null ? "from the data" : string.Join(",", Settings.Labels);
            return identity;
        }
    }

    public TaskData Load(TaskLoadContext context)
    {
        var side = ExpectedSide(context.FirstMember);
        var head = FirstMember.HeadClasses(context.FirstMember);
        var labels = (Settings.Labels, Settings.Dev.Directory) switch
        {
            ({ } names, _) => LabelMap.Named(names, $"{Settings.Source}: labels"),
            (null, { } folders) => LabelMap.Named(PngFolders.ClassFolders(folders), $"{folders}: class folders"),
            _ => LabelMap.Numbers(head),
        };
        var dev = Read("dev", Settings.Dev, labels, side);
        var test = Settings.Test is null ? null : Read("test", Settings.Test, labels, side);
        var ood = Settings.Ood is null ? null : Read("ood", Settings.Ood, labels, side);
        ImageSet[] present = [dev, .. test is null ? [] : new[] { test }, .. ood is null ? [] : new[] { ood }];
        var classCount = labels.ClassCount ?? Math.Max(2, present.SelectMany(p => p.Labels).Max() + 1);
        var classNames = labels.ClassNames(classCount);
        FirstMember.RequireHead(context.FirstMember, classCount, classNames);
        return new TaskData(dev with { ClassNames = classNames }, test is null ? null : test with { ClassNames = classNames },
            ood is null ? null : ood with { ClassNames = classNames }, new ImageBatcher());
    }

    /// <summary>The image side the cnn takes: what the first member's fc1 implies, else the family's 28.</summary>
    private static (int Side, string Why) ExpectedSide(string? member) =>
        FirstMember.Shape(member, "fc1.weight") is { Length: 2 } fc1 && CnnClassifier.ImageSideFor(fc1[1]) is { } side
            ? (side, $"as the first member's fc1.weight [{fc1[0]}, {fc1[1]}] implies")
            : (CnnClassifier.DefaultImageSize, "the cnn family's size");

    private static ImageSet Read(string split, ImageSplitSource source, LabelMap labels, (int Side, string Why) expected)
    {
        IReadOnlyList<float[]> images;
        List<int> classes;
        int rows, columns;
        if (source.Directory is { } directory)
        {
            var names = labels.Names
                ?? throw new EvolverException($"{directory}: class folders need class names, and the dev split is IDX files: set labels = [...]");
            (images, var files, rows, columns) = PngFolders.Read(directory);
            classes = [.. files.Select(f => names.Contains(f.Class)
                ? labels.Map(f.Class, f.File)
                : throw new EvolverException($"{Path.GetDirectoryName(f.File)}: class folder '{f.Class}' is not one of the classes [{string.Join(", ", names)}] (from {labels.Origin})"))];
        }
        else
        {
            (images, rows, columns) = IdxFiles.ReadImages(source.Images!);
            var raw = IdxFiles.ReadLabels(source.Labels!);
            if (raw.Count != images.Count)
            {
                throw new EvolverException($"{source.Labels}: holds {raw.Count} labels, but {source.Images} holds {images.Count} images");
            }
            classes = [.. raw.Select((label, i) => labels.Map(label.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{source.Labels}: item {i}"))];
        }
        if (rows != expected.Side || columns != expected.Side)
        {
            throw new EvolverException(
                $"{source}: images are {columns}x{rows}, but the cnn takes {expected.Side}x{expected.Side} ({expected.Why}): resize them first");
        }
        return new ImageSet(split, images, rows, columns, classes, []);
    }

    private sealed class ImageClassificationKind : ITaskKind
    {
        public string Name => ImageClassificationTask.Name;

        public string Description => "one-channel images from IDX files or a folder per class of PNGs, scored by a cnn";

        public IEvaluationTask Parse(Settings section, bool quick)
        {
            TaskSettings.Family(section, CnnClassifier.FamilyName);
            var labels = section.OptionalList("labels");
            if (labels is { Count: < 2 })
            {
                throw section.Problem("labels", "must name at least two classes");
            }
            return new ImageClassificationTask(new ImageClassificationSettings
            {
                Dev = Split(section, "dev") ?? throw section.Problem("dev", "is required: dev { images = FILE, labels = FILE } or dev { dir = DIR }"),
                Test = Split(section, "test"),
                Ood = Split(section, "ood"),
                Labels = labels,
                Metric = TaskSettings.Metric(section, Metric.Accuracy),
                Source = section.Source,
            });
        }

        private static ImageSplitSource? Split(Settings section, string key)
        {
            if (section.OptionalSection(key) is not { } split)
            {
                return null;
            }
            var (images, labels, directory) = (TaskSettings.OptionalPath(split, "images"), TaskSettings.OptionalPath(split, "labels"),
                TaskSettings.OptionalPath(split, "dir"));
            return (images, labels, directory) switch
            {
                (null, null, { }) => new ImageSplitSource(null, null, directory),
                ({ }, { }, null) => new ImageSplitSource(images, labels, null),
                (_, _, { }) => throw split.Problem("dir", "cannot be given with images / labels: a split is IDX files or a folder of PNGs"),
                (null, _, _) => throw split.Problem("images", "is required (an IDX image file), or give dir = DIR"),
                _ => throw split.Problem("labels", "is required (an IDX label file)"),
            };
        }
    }
}
