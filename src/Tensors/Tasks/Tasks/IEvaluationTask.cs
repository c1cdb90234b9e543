using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models;

namespace EvolverActors.Tensors.Tasks;

/// <summary>
/// A task's splits, ready for a resident evaluator: dev (selection), and test / out-of-domain (reports only; null
/// when the task has none), with the batcher that turns examples into model inputs. A run with a guard holds part of
/// dev out as <see cref="Guard"/> (<see cref="WithGuard"/>).
/// </summary>
public sealed record TaskData(LabelledSet Dev, LabelledSet? Test, LabelledSet? Ood, IBatcher Batcher, LabelledSet? Guard = null)
{
    /// <summary>The splits that exist, each named by its role (dev, guard, test, ood).</summary>
    public IReadOnlyList<LabelledSet> Splits =>
        [Named(Dev, "dev"), .. Guard is null ? [] : new[] { Named(Guard, PopulationFitness.GuardSplit) },
            .. Test is null ? [] : new[] { Named(Test, "test") }, .. Ood is null ? [] : new[] { Named(Ood, "ood") }];

    /// <summary>
    /// Dev cut in two, stratified by class and fixed by <paramref name="seed"/> (docs/architecture.md §1, "The guard"):
    /// the selection part stays <see cref="Dev"/>, and <paramref name="fraction"/> of it becomes <see cref="Guard"/>.
    /// </summary>
    public TaskData WithGuard(double fraction, int seed)
    {
        if (Guard is not null)
        {
            throw new InvalidOperationException("dev is split already");
        }
        if (!(fraction > 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the guard's share of dev is in (0, 1)");
        }
        var parts = Data.Splits.Stratified(Dev, [("dev", 1 - fraction), (PopulationFitness.GuardSplit, fraction)], seed);
        if (parts["dev"].Count == 0 || parts[PopulationFitness.GuardSplit].Count == 0)
        {
            throw new EvolverException($"dev has {Dev.Count} examples: too few to hold {fraction:P0} out as the guard and select on the rest");
        }
        return this with { Dev = parts["dev"], Guard = parts[PopulationFitness.GuardSplit] };
    }

    private static LabelledSet Named(LabelledSet set, string name) => set.Name == name ? set : set switch
    {
        ImageSet images => images with { Name = name },
        TextSet texts => texts with { Name = name },
        _ => set,
    };
}

/// <summary>Where and how a task loads its data: the data seed, and the first population member (config.json, vocab.txt, labels).</summary>
public sealed record TaskLoadContext(int Seed, string? FirstMember);

/// <summary>
/// A resolved, typed task (docs/architecture.md, "Tasks"): which model family scores it, on which metric, and how
/// its data loads. Made once from configuration by its <see cref="ITaskKind"/>.
/// </summary>
public interface IEvaluationTask
{
    /// <summary>The task kind's registry name (e.g. <c>mnist-noniid</c>, <c>text-classification</c>).</summary>
    string Kind { get; }

    /// <summary>The model family that scores it (<c>cnn</c>, <c>bert-classifier</c>).</summary>
    string Family { get; }

    Metric Metric { get; }

    /// <summary>Every setting that changes the data or the scores, as key = value (part of a run's resume fingerprint).</summary>
    IReadOnlyDictionary<string, string> Identity { get; }

    /// <summary>Loads (and caches, where the kind fetches assets) the splits.</summary>
    TaskData Load(TaskLoadContext context);
}

/// <summary>
/// A registry entry: a task kind with a stable name, what it is for, and how its settings become a typed
/// <see cref="IEvaluationTask"/>. <see cref="Parse"/> reads every key of its section (so unknown keys can be refused).
/// </summary>
public interface ITaskKind
{
    string Name { get; }
    string Description { get; }

    /// <param name="section">The task's settings (the <c>kind</c> key is already read).</param>
    /// <param name="quick">Whether the population is a --quick zoo (smaller data for smoke runs).</param>
    IEvaluationTask Parse(Settings section, bool quick);
}
