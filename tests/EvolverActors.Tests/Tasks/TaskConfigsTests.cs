using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Tasks;

/// <summary>Task references: built-in names (config/hocon/tasks next to the executable), task files, inline sections.</summary>
public sealed class TaskConfigsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Built_in_tasks_resolve_through_the_registry_with_their_file_settings()
    {
        Assert.Equal(["mnist-noniid", "sentiment-minilm"], TaskConfigs.BuiltIn);
        var mnist = Assert.IsType<MnistNonIidTask>(TaskConfigs.Load("mnist-noniid", quick: false));
        var quick = Assert.IsType<SentimentTask>(TaskConfigs.Load("sentiment-minilm", quick: true));
        var full = Assert.IsType<SentimentTask>(TaskConfigs.Load("sentiment-minilm", quick: false));

        Assert.Equal((5, 0.5, 0.1, 400, 4), (mnist.Options.Clients, mnist.Options.Alpha, mnist.Options.DevFraction, mnist.Options.OwnTestSize, mnist.Options.FineTune.Epochs));
        Assert.Equal((Metric.Accuracy, "cnn"), (mnist.Metric, mnist.Family));
        Assert.Equal((256, 48, 120, 64, 2e-4), (quick.Options.TrainPerDomain, quick.Options.DevPerDomain, quick.Options.OodExamples!.Value, quick.Options.MaxLength, quick.Options.FineTune.LearningRate));
        Assert.Equal((600, 192, (int?)null, 64, 64), (full.Options.TrainPerDomain, full.Options.DevPerDomain, full.Options.OodExamples, full.Options.MaxLength, full.Options.FisherExamples));
        Assert.Equal((5, 0), (full.Options.FrozenLayers, quick.Options.FrozenLayers));
        Assert.Equal("5", full.Identity["frozen-layers"]);
        Assert.False(quick.Identity.ContainsKey("frozen-layers"));
        Assert.Equal((Metric.MacroF1, "bert-classifier"), (quick.Metric, quick.Family));
        Assert.Equal("quick", quick.Identity["size"]);
        Assert.NotEqual(quick.Identity["dev-per-domain"], full.Identity["dev-per-domain"]);
    }

    [Fact]
    public void A_task_file_resolves_its_evolver_task_section_with_paths_relative_to_the_file()
    {
        Directory.CreateDirectory(_dir.File("sub"));
        var path = TaskFiles.TaskFile(_dir, "kind = text-classification\ndev = data/dev.jsonl\ntest = /abs/test.csv\nmetric = macro-f1\nlabels = [neg, pos]", Path.Combine("sub", "my.conf"));

        var task = Assert.IsType<TextClassificationTask>(TaskConfigs.Load(path, quick: false));

        Assert.Equal(Path.Combine(_dir.Path, "sub", "data", "dev.jsonl"), task.Settings.Dev);
        Assert.Equal("/abs/test.csv", task.Settings.Test);
        Assert.Null(task.Settings.Ood);
        Assert.Equal(Metric.MacroF1, task.Metric);
        Assert.Equal(["neg", "pos"], task.Settings.Labels);
        Assert.Equal(((int?)null, "text", "label"), (task.Settings.MaxLength, task.Settings.TextField, task.Settings.LabelField));
        Assert.Equal("neg,pos", task.Identity["labels"]);
    }

    [Fact]
    public void An_inline_section_resolves_like_a_task_file()
    {
        var root = HoconSettings.Parse("evolver.run { task { kind = image-classification, dev { dir = /data/dev } } }", "run.conf");
        var task = Assert.IsType<ImageClassificationTask>(TaskConfigs.FromSection(root.Section("evolver.run.task"), quick: false));
        Assert.Equal("/data/dev", task.Settings.Dev.Directory);
    }

    [Fact]
    public void Bad_references_fail_with_one_line()
    {
        var unknown = Assert.Throws<EvolverException>(() => TaskConfigs.Load("mnist", quick: false));
        Assert.Equal("unknown task 'mnist': the built-in tasks are mnist-noniid, sentiment-minilm (or give a task file's path)", unknown.Message);

        var missing = _dir.File("none.conf");
        Assert.Equal($"{missing}: no such task file", Assert.Throws<EvolverException>(() => TaskConfigs.Load(missing, quick: false)).Message);

        var noSection = _dir.File("other.conf");
        File.WriteAllText(noSection, "evolver.run { task = x }\n");
        Assert.Equal($"{noSection}: has no 'evolver.task {{ kind = ... }}' section", Assert.Throws<EvolverException>(() => TaskConfigs.Load(noSection, quick: false)).Message);

        var typo = _dir.File("typo.conf");
        File.WriteAllText(typo, "evolver.task { kind = image-classification, dev { dir = x } }\nevolver.taks { kind = y }\n");
        Assert.Equal($"{typo}: unknown key 'evolver.taks' (did you mean 'evolver.task'?)", Assert.Throws<EvolverException>(() => TaskConfigs.Load(typo, quick: false)).Message);
    }

    [Fact]
    public void A_copy_of_a_built_in_file_with_its_evolver_tasks_section_is_a_task_file_too()
    {
        var copy = _dir.File("mnist-copy.conf");
        File.WriteAllText(copy, File.ReadAllText(Path.Combine(HoconFiles.TasksDirectory, "mnist-noniid.conf")).Replace("clients = 5", "clients = 3", StringComparison.Ordinal));
        var task = Assert.IsType<MnistNonIidTask>(TaskConfigs.Load(copy, quick: false, preferred: "mnist-noniid"));
        Assert.Equal(3, task.Options.Clients);
    }
}
