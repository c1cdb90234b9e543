using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Tasks;

/// <summary>
/// The task registry's contract, run on every registered kind: it parses from a minimal section, names itself,
/// its family and identity, and (the kinds that need no fetched asset) loads small files and scores on its family.
/// </summary>
public sealed class TaskRegistryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A minimal section per kind, with the first member it loads against (null: the kind fetches real data).</summary>
    private Dictionary<string, (string Body, string? FirstMember)> Minimal()
    {
        var dev = _dir.File("dev.jsonl");
        File.WriteAllLines(dev, ["{\"text\": \"good film\", \"label\": 1}", "{\"text\": \"bad plot\", \"label\": 0}", "{\"text\": \"great fun\", \"label\": 1}"]);
        using var bert = TaskFiles.BertWeights(classes: 2, seed: 3);
        var bertDir = TaskFiles.BertCheckpoint(_dir.File("bert"), bert);
        var (images, labels, _) = TaskFiles.Idx(_dir, "dev", count: 12, classes: 3, seed: 4);
        var cnnDir = TaskFiles.CnnCheckpoint(_dir.File("cnn"), classes: 3);
        return new Dictionary<string, (string, string?)>(StringComparer.Ordinal)
        {
            [MnistNonIidTask.Name] = ("kind = mnist-noniid", null),
            [SentimentTask.Name] = ("kind = sentiment-minilm", null),
            [TextClassificationTask.Name] = ($"kind = text-classification\ndev = \"{dev}\"", bertDir),
            [ImageClassificationTask.Name] = ($"kind = image-classification\ndev {{ images = \"{images}\", labels = \"{labels}\" }}", cnnDir),
        };
    }

    private static Settings Section(string body) => HoconSettings.Parse("t {\n" + body + "\n}", "test.conf").Section("t");

    [Fact]
    public void Every_kind_is_registered_under_its_stable_name_and_the_demo_kinds_have_zoo_recipes()
    {
        Assert.Equal(["mnist-noniid", "sentiment-minilm", "text-classification", "image-classification"], TaskRegistry.Names);
        Assert.Equal(["mnist-noniid", "sentiment-minilm"], TaskRegistry.RecipeNames);
        foreach (var kind in TaskRegistry.Kinds)
        {
            Assert.Same(kind, TaskRegistry.Get(kind.Name));
            Assert.False(string.IsNullOrWhiteSpace(kind.Description));
        }
    }

    [Fact]
    public void Every_registered_kind_parses_a_minimal_section_and_the_data_driven_ones_load_and_score_small_files()
    {
        var minimal = Minimal();
        Assert.Equal(TaskRegistry.Names.Order(StringComparer.Ordinal), minimal.Keys.Order(StringComparer.Ordinal)); // a new kind adds its case here
        foreach (var kind in TaskRegistry.Kinds)
        {
            var (body, member) = minimal[kind.Name];
            var task = TaskRegistry.Resolve(Section(body), quick: true);
            Assert.Equal(kind.Name, task.Kind);
            Assert.Contains(task.Family, ModelFamilies.Names);
            Assert.Equal(kind.Name, task.Identity["kind"]);
            Assert.Equal(task.Family, task.Identity["family"]);
            if (member is null)
            {
                continue; // loads real data: covered by the zoo tests where it can be fetched
            }
            var data = task.Load(new TaskLoadContext(Seed: 0, member));
            Assert.Equal("dev", data.Splits[0].Name);
            Assert.True(data.Dev.Count > 0, $"{kind.Name}: dev is empty");
            using var weights = Checkpoint.Load(member, floatType: ScalarType.Float32);
            using var evaluator = new ResidentEvaluator(ModelFamilies.SkeletonFor(task.Family, weights, member), data.Batcher, data.Splits, CPU);
            evaluator.Load(weights);
            Assert.InRange(evaluator.Evaluate("dev").Get(task.Metric), 0, 1);
        }
    }

    [Fact]
    public void An_unknown_or_missing_kind_fails_with_one_line_naming_the_known_kinds()
    {
        var unknown = Assert.Throws<EvolverException>(() => TaskRegistry.Resolve(Section("kind = audio"), quick: false));
        var missing = Assert.Throws<EvolverException>(() => TaskRegistry.Resolve(Section("metric = accuracy"), quick: false));
        var get = Assert.Throws<EvolverException>(() => TaskRegistry.Get("audio"));

        Assert.Equal("test.conf: t.kind = 'audio' is unknown: known kinds are mnist-noniid, sentiment-minilm, text-classification, image-classification", unknown.Message);
        Assert.Equal("test.conf: t.kind is required: one of mnist-noniid, sentiment-minilm, text-classification, image-classification", missing.Message);
        Assert.Equal("unknown task kind 'audio': known kinds are mnist-noniid, sentiment-minilm, text-classification, image-classification", get.Message);
        Assert.Equal("task kind 'text-classification' has no zoo recipe: the recipes are mnist-noniid, sentiment-minilm",
            Assert.Throws<EvolverException>(() => TaskRegistry.Recipe("text-classification")).Message);
    }

    [Theory]
    [InlineData("kind = text-classification\ndev = d.jsonl\ntext-feild = sentence", "unknown key 't.text-feild' (did you mean 't.text-field'?)")]
    [InlineData("kind = mnist-noniid\npartition { clients = 3, alpah = 0.1 }", "unknown key 't.partition.alpah' (did you mean 't.partition.alpha'?)")]
    [InlineData("kind = sentiment-minilm\nquick { max-lenght = 32 }", "unknown key 't.quick.max-lenght' (did you mean 't.quick.max-length'?)")]
    [InlineData("kind = image-classification\ndev { dir = x, imgaes = y }", "unknown key 't.dev.imgaes' (did you mean 't.dev.images'?)")]
    [InlineData("kind = image-classification\ndev { dir = x }\nfamily = bert-classifier", "t.family = 'bert-classifier' is not possible here: this kind is scored by the 'cnn' family")]
    [InlineData("kind = text-classification\ndev = d.jsonl\nmetric = f2", "t.metric = 'f2' is unknown: use accuracy | macro-f1")]
    [InlineData("kind = text-classification\ndev = d.jsonl\nformat = xml", "t.format = 'xml' is unknown: use jsonl | csv")]
    [InlineData("kind = text-classification\ndev = d.jsonl\nlabels = [only]", "t.labels must name at least two classes")]
    [InlineData("kind = text-classification", "t.dev is required: the dev (selection) data file")]
    [InlineData("kind = image-classification\ndev { images = x }", "t.dev.labels is required (an IDX label file)")]
    [InlineData("kind = image-classification\ndev { images = x, labels = y, dir = z }", "t.dev.dir cannot be given with images / labels")]
    [InlineData("kind = sentiment-minilm\ndomains = [en-movie-sentences, klingon]", "t.domains names an unknown corpus 'klingon'")]
    [InlineData("kind = mnist-noniid\nsplits { dev = 0.5, test = 0.5 }", "t.splits.dev and the other fractions leave nothing to fine-tune on")]
    public void Bad_settings_fail_with_one_line_naming_the_file_and_the_key(string body, string expected)
    {
        var error = Assert.Throws<EvolverException>(() => TaskRegistry.Resolve(Section(body), quick: true));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.conf: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
