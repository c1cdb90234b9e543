using EvolverActors.Host.Config;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Zoo;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Evaluation;
using EvolverActors.Tests.Tasks;
using Xunit;

namespace EvolverActors.Tests.Zoo;

/// <summary>A zoo's splits written as data files plus a task.conf read back by the data-driven kinds as the same examples.</summary>
public sealed class ZooDataExportTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Image_splits_become_idx_files_and_an_image_classification_task_that_reads_them_back()
    {
        ImageSet[] splits = [SyntheticImages.Bands("dev", 10, 3, 1), SyntheticImages.Bands("test", 6, 3, 2), SyntheticImages.Bands("ood", 4, 3, 3)];
        var zoo = _dir.File("zoo");

        var taskFile = ZooDataExport.WriteImages(zoo, "bands", splits, Metric.MacroF1);

        Assert.Equal(Path.Combine(zoo, "task.conf"), taskFile);
        Assert.Equal(["dev-images.idx", "dev-labels.idx", "ood-images.idx", "ood-labels.idx", "test-images.idx", "test-labels.idx"],
            Directory.GetFiles(Path.Combine(zoo, "data")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains($"dev {{ images = \"{Path.Combine(zoo, "data", "dev-images.idx")}\"", File.ReadAllText(taskFile), StringComparison.Ordinal);
        var task = Assert.IsType<ImageClassificationTask>(TaskConfigs.Load(taskFile, quick: false));
        Assert.Equal(Metric.MacroF1, task.Metric);
        var data = task.Load(new TaskLoadContext(0, TaskFiles.CnnCheckpoint(_dir.File("cnn"), classes: 3)));
        foreach (var (loaded, original) in data.Splits.Zip(splits))
        {
            Assert.Equal(original.Name, loaded.Name);
            Assert.Equal(original.Labels, loaded.Labels);
            Assert.Equal(original.ClassNames, loaded.ClassNames);
            Assert.Equal(original.Images, ((ImageSet)loaded).Images); // noise pixels are written as float32: exact
        }
    }

    [Fact]
    public void Text_splits_become_jsonl_files_with_class_names_and_a_text_classification_task()
    {
        TextSet[] splits =
        [
            new("dev", ["good film", "awful plot", "great \"fun\"\nreally"], [1, 0, 1], ["negative", "positive"]),
            new("test", ["dull movie"], [0], ["negative", "positive"]),
            new("ood", ["fun", "bad"], [1, 0], ["negative", "positive"]),
        ];
        var zoo = _dir.File("zoo");
        using var weights = TaskFiles.BertWeights(classes: 2, seed: 1);
        var member = TaskFiles.BertCheckpoint(_dir.File("member"), weights);

        var taskFile = ZooDataExport.WriteTexts(zoo, "sentences", splits, Metric.MacroF1, maxLength: 48);

        Assert.Equal("{\"text\":\"good film\",\"label\":\"positive\"}", File.ReadLines(Path.Combine(zoo, "data", "dev.jsonl")).First());
        var task = Assert.IsType<TextClassificationTask>(TaskConfigs.Load(taskFile, quick: false));
        Assert.Equal(((int?)48, Metric.MacroF1), (task.Settings.MaxLength, task.Metric));
        var data = task.Load(new TaskLoadContext(0, member));
        foreach (var (loaded, original) in data.Splits.Zip(splits))
        {
            Assert.Equal(original.Texts, ((TextSet)loaded).Texts);
            Assert.Equal(original.Labels, loaded.Labels);
            Assert.Equal(original.ClassNames, loaded.ClassNames);
        }
    }
}
