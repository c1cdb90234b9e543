using EvolverActors.Tensors;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Zoo;
using HoconConfig = Akka.Configuration.Config;

namespace EvolverActors.Host.Config;

/// <summary>Typed task settings read once from HOCON (keys mirror the option records' properties).</summary>
internal static class TaskSettings
{
    public static MnistNonIidOptions MnistNonIid(HoconConfig c) => new()
    {
        Clients = Positive(c, "partition.clients", 5),
        Alpha = PositiveDouble(c, "partition.alpha", 0.5),
        PretrainFraction = c.GetDouble("splits.pretrain", 0.1),
        DevFraction = c.GetDouble("splits.dev", 0.1),
        TestFraction = c.GetDouble("splits.test", 0.2),
        OwnPoolFraction = c.GetDouble("splits.own-pool", 0.1),
        OwnTestSize = Positive(c, "splits.own-test-size", 400),
        Pretrain = Training(c, "pretrain", new MnistNonIidOptions().Pretrain),
        FineTune = Training(c, "finetune", new MnistNonIidOptions().FineTune),
        FisherExamples = c.GetInt("statistics.fisher-examples", 256),
        GramExamples = c.GetInt("statistics.gram-examples", 512),
    };

    public static SentimentOptions Sentiment(HoconConfig c, bool quick)
    {
        var size = c.GetConfig(quick ? "quick" : "full") ?? throw new EvolverException($"task sentiment-minilm has no '{(quick ? "quick" : "full")}' section");
        var defaults = new SentimentOptions();
        return new SentimentOptions
        {
            Encoder = c.GetString("encoder", defaults.Encoder),
            Domains = c.HasPath("domains") ? [.. c.GetStringList("domains").Select(Corpus)] : defaults.Domains,
            OutOfDomain = c.HasPath("out-of-domain") ? Corpus(c.GetString("out-of-domain")) : defaults.OutOfDomain,
            TrainPerDomain = Positive(size, "train-per-domain", defaults.TrainPerDomain),
            DevPerDomain = Positive(size, "dev-per-domain", defaults.DevPerDomain),
            TestPerDomain = Positive(size, "test-per-domain", defaults.TestPerDomain),
            OodExamples = size.HasPath("ood-examples") ? Positive(size, "ood-examples", 1) : null,
            MaxLength = Positive(size, "max-length", defaults.MaxLength),
            FineTune = Training(size, "finetune", defaults.FineTune),
            FisherExamples = size.GetInt("statistics.fisher-examples", defaults.FisherExamples),
            GramExamples = size.GetInt("statistics.gram-examples", defaults.GramExamples),
        };
    }

    /// <summary>A corpus by its set name (en-movie-sentences, fr-reviews, ...).</summary>
    private static PatternCorpus Corpus(string name) =>
        Enum.GetValues<PatternCorpus>().FirstOrDefault(c => PatternCorpora.SetName(c) == name) is var corpus && PatternCorpora.SetName(corpus) == name
            ? corpus
            : throw new EvolverException($"unknown corpus '{name}': known corpora are {string.Join(", ", Enum.GetValues<PatternCorpus>().Select(PatternCorpora.SetName))}");

    public static TrainingOptions Training(HoconConfig c, string path, TrainingOptions defaults) => defaults with
    {
        Epochs = Positive(c, path + ".epochs", defaults.Epochs),
        BatchSize = Positive(c, path + ".batch-size", defaults.BatchSize),
        LearningRate = PositiveDouble(c, path + ".learning-rate", defaults.LearningRate),
        WeightDecay = c.GetDouble(path + ".weight-decay", defaults.WeightDecay),
        MaxSteps = c.HasPath(path + ".max-steps") ? Positive(c, path + ".max-steps", 1) : defaults.MaxSteps,
    };

    private static int Positive(HoconConfig c, string key, int fallback)
    {
        var value = c.GetInt(key, fallback);
        return value > 0 ? value : throw new EvolverException($"task setting {key} = {value} must be positive");
    }

    private static double PositiveDouble(HoconConfig c, string key, double fallback)
    {
        var value = c.GetDouble(key, fallback);
        return value > 0 && double.IsFinite(value) ? value : throw new EvolverException($"task setting {key} = {value} must be a positive number");
    }
}
