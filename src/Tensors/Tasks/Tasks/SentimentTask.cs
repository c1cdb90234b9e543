using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Tensors.Tasks;

/// <summary>
/// The <c>sentiment-minilm</c> kind: MiniLM fine-tuned per sentiment domain (see <see cref="SentimentRecipe"/>), scored
/// by the <c>bert-classifier</c> family. Settings: <c>family = bert-classifier</c>, <c>metric</c> (macro-f1),
/// <c>encoder = minilm | arcticxs</c>, <c>domains = [...]</c>, <c>out-of-domain</c>, and two size sections
/// <c>full { ... }</c> and <c>quick { ... }</c> (train-, dev-, test-per-domain, ood-examples, max-length, frozen-layers, finetune { ... },
/// statistics { ... }); <c>quick</c> picks the second. Both are read, so a typo in either is refused.
/// </summary>
public sealed class SentimentTask(SentimentOptions options, bool quick) : IEvaluationTask
{
    public const string Name = SentimentRecipe.Name;

    /// <summary>The registry entry.</summary>
    public static ITaskKind Kind { get; } = new SentimentKind();

    public SentimentOptions Options { get; } = options;
    public bool Quick { get; } = quick;
    string IEvaluationTask.Kind => Name;
    public string Family => BertClassifier.FamilyName;
    public Evaluation.Metric Metric => Options.Metric;

    public IReadOnlyDictionary<string, string> Identity
    {
        get
        {
            var identity = TaskSettings.Identity(Name, Family, Metric);
            identity["size"] = Quick ? "quick" : "full";
            identity["encoder"] = Options.Encoder;
            identity["domains"] = string.Join(",", Options.Domains.Select(PatternCorpora.SetName));
            identity["out-of-domain"] = PatternCorpora.SetName(Options.OutOfDomain);
            identity["train-per-domain"] = TaskSettings.Text(Options.TrainPerDomain);
            identity["dev-per-domain"] = TaskSettings.Text(Options.DevPerDomain);
            identity["test-per-domain"] = TaskSettings.Text(Options.TestPerDomain);
            identity["ood-examples"] = Options.OodExamples is { } n ? TaskSettings.Text(n) : "all";
            identity["max-length"] = TaskSettings.Text(Options.MaxLength);
            if (Options.FrozenLayers > 0)
            {
                identity["frozen-layers"] = TaskSettings.Text(Options.FrozenLayers);
            }
            return identity;
        }
    }

    /// <summary>The seed's pooled dev and test splits and the out-of-domain corpus; fetches the corpora on first use.</summary>
    public TaskData Load(TaskLoadContext context)
    {
        var data = SentimentRecipe.LoadData(AssetStore.Default, context.Seed, Options);
        return new TaskData(data.Dev, data.Test, data.Ood, SentimentRecipe.Batcher(Options));
    }

    private sealed class SentimentKind : ITaskKind, IZooRecipe
    {
        public string Name => SentimentTask.Name;

        public string Description => "MiniLM + a mean-pooling head fine-tuned per sentiment domain; ood = German reviews (zoo recipe)";

        public IEvaluationTask Parse(Settings section, bool quick)
        {
            TaskSettings.Family(section, BertClassifier.FamilyName);
            var defaults = new SentimentOptions();
            var common = defaults with
            {
                Metric = TaskSettings.Metric(section, defaults.Metric),
                Encoder = section.Choice("encoder", defaults.Encoder, new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["minilm"] = "minilm",
                    ["arcticxs"] = "arcticxs",
                }),
                Domains = section.OptionalList("domains") is { } domains ? [.. domains.Select(d => Corpus(section, "domains", d))] : defaults.Domains,
                OutOfDomain = section.OptionalText("out-of-domain") is { } ood ? Corpus(section, "out-of-domain", ood) : defaults.OutOfDomain,
            };
            if (common.Domains.Count == 0)
            {
                throw section.Problem("domains", "lists no domain");
            }
            var full = Size(section.Section("full"), common);
            var small = Size(section.Section("quick"), common);
            return new SentimentTask(quick ? small : full, quick);
        }

        public ZooManifest Build(IEvaluationTask task, ZooBuildContext context) =>
            SentimentRecipe.Build(context.Output, context.Seed,
                (task as SentimentTask ?? throw new EvolverException($"the {Name} recipe cannot build a zoo for a '{task.Kind}' task")).Options,
                context.Store, context.Device, context.Log);

        /// <summary>One size section (full or quick) over the shared settings.</summary>
        private static SentimentOptions Size(Settings size, SentimentOptions common)
        {
            var statistics = size.Section("statistics");
            return common with
            {
                TrainPerDomain = TaskSettings.Positive(size, "train-per-domain", common.TrainPerDomain),
                DevPerDomain = TaskSettings.Positive(size, "dev-per-domain", common.DevPerDomain),
                TestPerDomain = TaskSettings.Positive(size, "test-per-domain", common.TestPerDomain),
                OodExamples = size.Has("ood-examples") ? TaskSettings.Positive(size, "ood-examples", 1) : null,
                MaxLength = size.Int("max-length", common.MaxLength, min: 2, max: 512),
                FineTune = TaskSettings.Training(size, "finetune", common.FineTune),
                FrozenLayers = size.Int("frozen-layers", common.FrozenLayers, min: 0, max: 64),
                FisherExamples = statistics.Int("fisher-examples", common.FisherExamples, min: 0),
                GramExamples = statistics.Int("gram-examples", common.GramExamples, min: 0),
            };
        }

        /// <summary>A corpus by its set name (en-movie-sentences, fr-reviews, ...).</summary>
        private static PatternCorpus Corpus(Settings section, string key, string name) =>
            Enum.GetValues<PatternCorpus>().Where(c => PatternCorpora.SetName(c) == name).Select(c => (PatternCorpus?)c).FirstOrDefault()
            ?? throw section.Problem(key, $"names an unknown corpus '{name}': known corpora are {string.Join(", ", Enum.GetValues<PatternCorpus>().Select(PatternCorpora.SetName))}");
    }
}
