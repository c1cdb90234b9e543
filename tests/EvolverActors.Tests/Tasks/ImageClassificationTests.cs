using System.IO.Compression;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Evaluation;
using SkiaSharp;
using Xunit;

namespace EvolverActors.Tests.Tasks;

/// <summary>The image-classification kind on IDX files (plain and gzipped) and PNG class folders written here.</summary>
public sealed class ImageClassificationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private TaskData Load(string body, string? member, string name = "task.conf") =>
        TaskConfigs.Load(TaskFiles.TaskFile(_dir, "kind = image-classification\n" + body, name), quick: false).Load(new TaskLoadContext(0, member));

    [Fact]
    public void Idx_files_round_trip_as_bytes_or_floats_plain_or_gzipped()
    {
        var bytes = new ImageSet("b", [[0f, 1f, 3 / 255f, 128 / 255f], [1f, 0f, 0f, 1f]], 2, 2, [0, 300], ["a", "b"]);
        var floats = SyntheticImages.Bands("f", 3, 2, seed: 1);
        foreach (var suffix in new[] { ".idx", ".idx.gz" })
        {
            IdxFiles.WriteImages(_dir.File("b" + suffix), bytes.Images, 2, 2);
            IdxFiles.WriteLabels(_dir.File("l" + suffix), bytes.Labels);
            IdxFiles.WriteImages(_dir.File("f" + suffix), floats.Images, 28, 28);

            var (images, rows, columns) = IdxFiles.ReadImages(_dir.File("b" + suffix));
            Assert.Equal((2, 2), (rows, columns));
            Assert.Equal(bytes.Images, images);
            Assert.Equal([0, 300], IdxFiles.ReadLabels(_dir.File("l" + suffix)));
            Assert.Equal(floats.Images, IdxFiles.ReadImages(_dir.File("f" + suffix)).Images);
        }
        Assert.Equal(4 + 12 + 8, new FileInfo(_dir.File("b.idx")).Length); // unsigned bytes: header + 3 dims + 2·4 pixels
        Assert.Equal(4 + 4 + (2 * 4), new FileInfo(_dir.File("l.idx")).Length); // 300 does not fit a byte: int32 labels
        Assert.Equal(4 + 12 + (3 * 784 * 4), new FileInfo(_dir.File("f.idx")).Length); // noise pixels: float32

        // gzip is found by its magic bytes, whatever the name.
        File.Copy(_dir.File("b.idx.gz"), _dir.File("renamed.idx"));
        Assert.Equal(bytes.Images, IdxFiles.ReadImages(_dir.File("renamed.idx")).Images);
    }

    [Fact]
    public void Idx_splits_load_with_numbers_or_class_names_and_score_on_a_cnn()
    {
        var dev = TaskFiles.Idx(_dir, "dev", 20, 4, seed: 2);
        var test = TaskFiles.Idx(_dir, "test", 8, 4, seed: 3, gzip: true);
        var member = TaskFiles.CnnCheckpoint(_dir.File("cnn"), classes: 4);

        var numbers = Load($"dev {{ images = dev-images.idx, labels = dev-labels.idx }}\ntest {{ images = \"{test.Images}\", labels = \"{test.Labels}\" }}", member);
        var named = Load("dev { images = dev-images.idx, labels = dev-labels.idx }\nlabels = [zero, one, two, three]\nmetric = macro-f1", member);

        Assert.Equal(dev.Set.Labels, numbers.Dev.Labels);
        Assert.Equal(dev.Set.Images, ((ImageSet)numbers.Dev).Images);
        Assert.Equal(test.Set.Labels, numbers.Test!.Labels);
        Assert.Equal(["0", "1", "2", "3"], numbers.Dev.ClassNames);
        Assert.Equal(["zero", "one", "two", "three"], named.Dev.ClassNames);
        Assert.Equal(["dev", "test"], numbers.Splits.Select(s => s.Name));
    }

    [Fact]
    public void Png_class_folders_load_as_grayscale_with_sorted_folder_names_as_classes()
    {
        var set = SyntheticImages.Bands("dev", 12, 3, seed: 4);
        TaskFiles.PngFolder(_dir.File("dev"), set, ["cat", "ant", "bee"]);
        // One colour image (last: class cat, name zz-…), a red pixel on black: luminance 0.299.
        using (var colour = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Rgba8888, SKAlphaType.Premul)))
        {
            colour.Erase(SKColors.Black);
            colour.SetPixel(3, 1, SKColors.Red);
            using var png = SKImage.FromBitmap(colour).Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(_dir.File(Path.Combine("dev", "cat", "zz-colour.png")), png.ToArray());
        }
        File.WriteAllText(_dir.File(Path.Combine("dev", "ant", "notes.txt")), "skipped");

        var data = Load("dev { dir = dev }", TaskFiles.CnnCheckpoint(_dir.File("cnn"), classes: 3));
        var dev = (ImageSet)data.Dev;

        Assert.Equal(["ant", "bee", "cat"], dev.ClassNames);
        Assert.Equal(13, dev.Count);
        // Files are read class folder by class folder in name order: ant = band 1, bee = band 2, cat = band 0.
        var expected = new[] { 1, 2, 0 }.SelectMany(band => Enumerable.Range(0, set.Count).Where(i => set.Labels[i] == band)).ToList();
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(new[] { "cat", "ant", "bee" }[set.Labels[expected[i]]], dev.ClassNames[dev.Labels[i]]);
            Assert.All(dev.Images[i].Zip(set.Images[expected[i]]), p => Assert.InRange(p.Item1 - p.Item2, -0.5 / 255, 0.5 / 255));
        }
        Assert.Equal(2, dev.Labels[^1]);
        Assert.Equal(0.299, dev.Images[^1][(1 * 28) + 3], 0.01);
        Assert.Equal(0f, dev.Images[^1][0]);
    }

    [Fact]
    public void Image_sizes_follow_the_first_members_cnn()
    {
        var big = new ImageSet("dev", [.. Enumerable.Range(0, 4).Select(i => new float[32 * 32])], 32, 32, [0, 1, 0, 1], ["0", "1"]);
        IdxFiles.WriteImages(_dir.File("big-images.idx"), big.Images, 32, 32);
        IdxFiles.WriteLabels(_dir.File("big-labels.idx"), big.Labels);
        const string body = "dev { images = big-images.idx, labels = big-labels.idx }";

        var data = Load(body, TaskFiles.CnnCheckpoint(_dir.File("cnn32"), classes: 2, side: 32));
        Assert.Equal(32, ((ImageSet)data.Dev).Width);

        var member = TaskFiles.CnnCheckpoint(_dir.File("cnn28"), classes: 2);
        var error = Assert.Throws<EvolverException>(() => Load(body, member));
        Assert.Equal($"{_dir.File("big-images.idx")} + {_dir.File("big-labels.idx")}: images are 32x32, but the cnn takes 28x28 (as the first member's fc1.weight [64, 1568] implies): resize them first", error.Message);
        Assert.Contains("but the cnn takes 28x28 (the cnn family's size)", Assert.Throws<EvolverException>(() => Load(body, null)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_one_line_naming_the_file()
    {
        var dev = TaskFiles.Idx(_dir, "dev", 6, 2, seed: 5);
        var short3 = TaskFiles.Idx(_dir, "three", 3, 2, seed: 6);
        File.WriteAllBytes(_dir.File("cut-images.idx"), File.ReadAllBytes(dev.Images)[..100]);
        File.WriteAllBytes(_dir.File("junk.idx"), [1, 2, 3, 4, 5]);
        File.WriteAllBytes(_dir.File("broken.idx.gz"), [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF]);
        TaskFiles.PngFolder(_dir.File("png"), SyntheticImages.Bands("x", 4, 2, seed: 7), ["a", "b"]);
        TaskFiles.PngFolder(_dir.File("other"), SyntheticImages.Bands("x", 4, 2, seed: 7), ["a", "z"]);
        File.WriteAllText(_dir.File(Path.Combine("png", "a", "fake.png")), "not a png");
        Directory.CreateDirectory(_dir.File("empty"));
        var member = TaskFiles.CnnCheckpoint(_dir.File("cnn"), classes: 2);

        string Error(string body) => Assert.Throws<EvolverException>(() => Load(body, member)).Message;

        Assert.Equal($"{_dir.File("none.idx")}: no such IDX file", Error("dev { images = none.idx, labels = dev-labels.idx }"));
        Assert.Equal($"{_dir.File("cut-images.idx")}: the header says [6, 28, 28] x 4 bytes = 18816 bytes of values, the file holds 84",
            Error("dev { images = cut-images.idx, labels = dev-labels.idx }"));
        Assert.StartsWith($"{_dir.File("junk.idx")}: not an IDX file", Error("dev { images = junk.idx, labels = dev-labels.idx }"), StringComparison.Ordinal);
        Assert.StartsWith($"{_dir.File("broken.idx.gz")}: a damaged gzip file (", Error("dev { images = broken.idx.gz, labels = dev-labels.idx }"), StringComparison.Ordinal);
        Assert.Equal($"{short3.Labels}: holds 3 labels, but {dev.Images} holds 6 images", Error($"dev {{ images = dev-images.idx, labels = \"{short3.Labels}\" }}"));
        Assert.Equal($"{_dir.File("dev-labels.idx")}: item 1: label 1 is out of range: there are 1 classes (0..0)",
            Assert.Throws<EvolverException>(() => Load("dev { images = dev-images.idx, labels = dev-labels.idx }", TaskFiles.CnnCheckpoint(_dir.File("cnn1"), classes: 1))).Message);
        Assert.Equal($"{_dir.File(Path.Combine("png", "a", "fake.png"))}: not a PNG image", Error("dev { dir = png }"));
        File.Delete(_dir.File(Path.Combine("png", "a", "fake.png")));
        Assert.Equal($"{_dir.File(Path.Combine("other", "z"))}: class folder 'z' is not one of the classes [a, b] (from {_dir.File("png")}: class folders)",
            Error("dev { dir = png }\ntest { dir = other }"));
        Assert.Equal($"{_dir.File("empty")}: has no class folders (expected DIR/<class>/*.png)", Error("dev { dir = empty }"));
        Assert.Equal($"{_dir.File("png")}: class folders need class names, and the dev split is IDX files: set labels = [...]",
            Error("dev { images = dev-images.idx, labels = dev-labels.idx }\ntest { dir = png }"));
        Assert.Equal($"{member}: the model's classifier.weight has 2 rows, but the task has 3 classes [a, b, c]",
            Error("dev { dir = png }\nlabels = [a, b, c]"));
    }

    [Fact]
    public void A_gzipped_label_file_written_by_another_tool_reads_the_same()
    {
        var dev = TaskFiles.Idx(_dir, "dev", 6, 2, seed: 8);
        using (var output = new GZipStream(File.Create(_dir.File("labels.gz")), CompressionLevel.Fastest))
        {
            output.Write(File.ReadAllBytes(dev.Labels));
        }
        Assert.Equal(dev.Set.Labels, IdxFiles.ReadLabels(_dir.File("labels.gz")));
    }
}
