using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Tensors.Tasks;

/// <summary>
/// The <c>mnist-noniid</c> kind: the reference paper's non-IID protocol on real MNIST (see <see cref="MnistNonIidRecipe"/>),
/// scored by the <c>cnn</c> family. Settings (all optional, defaults of <see cref="MnistNonIidOptions"/>):
/// <c>family = cnn</c>, <c>metric</c>, <c>data { ... }</c> (a description, not read), <c>partition { clients, alpha }</c>,
/// <c>splits { pretrain, dev, test, own-pool, own-test-size }</c>, <c>pretrain { ... }</c>, <c>finetune { ... }</c>
/// (epochs, batch-size, learning-rate, weight-decay, max-steps), <c>statistics { fisher-examples, gram-examples }</c>.
/// </summary>
public sealed class MnistNonIidTask(MnistNonIidOptions options) : IEvaluationTask
{
    public const string Name = MnistNonIidRecipe.Name;

    /// <summary>The registry entry.</summary>
    public static ITaskKind Kind { get; } = new MnistNonIidKind();

    public MnistNonIidOptions Options { get; } = options;
    string IEvaluationTask.Kind => Name;
    public string Family => CnnClassifier.FamilyName;
    public Metric Metric => Options.Metric;

    public IReadOnlyDictionary<string, string> Identity
    {
        get
        {
            var identity = TaskSettings.Identity(Name, Family, Metric);
            identity["partition.clients"] = TaskSettings.Text(Options.Clients);
            identity["partition.alpha"] = TaskSettings.Text(Options.Alpha);
            identity["splits.pretrain"] = TaskSettings.Text(Options.PretrainFraction);
            identity["splits.dev"] = TaskSettings.Text(Options.DevFraction);
            identity["splits.test"] = TaskSettings.Text(Options.TestFraction);
            identity["splits.own-pool"] = TaskSettings.Text(Options.OwnPoolFraction);
            return identity;
        }
    }

    /// <summary>The seed's dev, test (balanced MNIST) and ood (sklearn digits) splits; fetches the data on first use.</summary>
    public TaskData Load(TaskLoadContext context)
    {
        var data = MnistNonIidRecipe.LoadData(AssetStore.Default, context.Seed, Options);
        return new TaskData(data.Dev, data.Test, data.Ood, new ImageBatcher());
    }

    private sealed class MnistNonIidKind : ITaskKind, IZooRecipe
    {
        public string Name => MnistNonIidTask.Name;

        public string Description => "cnn on label-skewed (Dirichlet) partitions of real MNIST; ood = sklearn digits (zoo recipe)";

        public IEvaluationTask Parse(Settings section, bool quick)
        {
            TaskSettings.Family(section, CnnClassifier.FamilyName);
            var defaults = new MnistNonIidOptions();
            var metric = TaskSettings.Metric(section, defaults.Metric);
            section.MarkOpaque("data");
            var partition = section.Section("partition");
            var splits = section.Section("splits");
            var statistics = section.Section("statistics");
            var options = new MnistNonIidOptions
            {
                Clients = TaskSettings.Positive(partition, "clients", defaults.Clients),
                Alpha = partition.Double("alpha", defaults.Alpha, min: double.Epsilon),
                PretrainFraction = TaskSettings.Fraction(splits, "pretrain", defaults.PretrainFraction),
                DevFraction = TaskSettings.Fraction(splits, "dev", defaults.DevFraction),
                TestFraction = TaskSettings.Fraction(splits, "test", defaults.TestFraction),
                OwnPoolFraction = TaskSettings.Fraction(splits, "own-pool", defaults.OwnPoolFraction),
                OwnTestSize = TaskSettings.Positive(splits, "own-test-size", defaults.OwnTestSize),
                Pretrain = TaskSettings.Training(section, "pretrain", defaults.Pretrain),
                FineTune = TaskSettings.Training(section, "finetune", defaults.FineTune),
                FisherExamples = statistics.Int("fisher-examples", defaults.FisherExamples, min: 0),
                GramExamples = statistics.Int("gram-examples", defaults.GramExamples, min: 0),
                Metric = metric,
            };
            if (options.PretrainFraction + options.DevFraction + options.TestFraction + options.OwnPoolFraction >= 1)
            {
                throw splits.Problem("dev", "and the other fractions leave nothing to fine-tune on: pretrain + dev + test + own-pool must be below 1");
            }
            return new MnistNonIidTask(options);
        }

        public ZooManifest Build(IEvaluationTask task, ZooBuildContext context) =>
            MnistNonIidRecipe.Build(context.Output, context.Seed, Options(task), context.Store, context.Device, context.Log);

        private static MnistNonIidOptions Options(IEvaluationTask task) =>
            (task as MnistNonIidTask ?? throw new EvolverException($"the {MnistNonIidTask.Name} recipe cannot build a zoo for a '{task.Kind}' task")).Options;
    }
}
