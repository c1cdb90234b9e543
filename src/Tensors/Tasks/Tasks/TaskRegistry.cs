using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Tensors.Tasks;

/// <summary>
/// The task kinds by stable name (docs/architecture.md §5, "Tasks are plug-ins"): the two demo setups with their zoo recipes
/// (<c>mnist-noniid</c>, <c>sentiment-minilm</c>) and the data-driven kinds that need no code
/// (<c>text-classification</c>, <c>image-classification</c>). A task's settings name their kind with <c>kind = ...</c>;
/// an unknown kind or an unknown key fails at start-up with one line.
/// </summary>
public static class TaskRegistry
{
    private static readonly ITaskKind[] Registered =
    [
        MnistNonIidTask.Kind,
        SentimentTask.Kind,
        TextClassificationTask.Kind,
        ImageClassificationTask.Kind,
    ];

    private static readonly Dictionary<string, ITaskKind> ByName = Registered.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Every registered kind, in registration order.</summary>
    public static IReadOnlyList<ITaskKind> Kinds => Registered;

    /// <summary>The names of the registered kinds, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Registered.Select(k => k.Name)];

    /// <summary>The kinds that can build a zoo (<c>evolver zoo build --recipe NAME</c>).</summary>
    public static IReadOnlyList<string> RecipeNames { get; } = [.. Registered.Where(k => k is IZooRecipe).Select(k => k.Name)];

    public static bool Contains(string name) => ByName.ContainsKey(name);

    /// <summary>The kind called <paramref name="name"/>; an unknown name fails with the known ones.</summary>
    public static ITaskKind Get(string name) =>
        ByName.TryGetValue(name, out var kind)
            ? kind
            : throw new EvolverException($"unknown task kind '{name}': known kinds are {string.Join(", ", Names)}");

    /// <summary>The zoo recipe of the kind called <paramref name="name"/>; a kind without one fails with the kinds that have one.</summary>
    public static IZooRecipe Recipe(string name) =>
        Get(name) as IZooRecipe
        ?? throw new EvolverException($"task kind '{name}' has no zoo recipe: the recipes are {string.Join(", ", RecipeNames)}");

    /// <summary>
    /// Resolves a task section: reads <c>kind</c>, lets that kind parse the rest, then refuses any key no one read.
    /// </summary>
    /// <param name="section">The task's settings (e.g. <c>evolver.task</c> of a task file).</param>
    /// <param name="quick">Whether the population is a --quick zoo (the kinds with sizes pick the small one).</param>
    public static IEvaluationTask Resolve(Settings section, bool quick)
    {
        var name = section.OptionalText("kind");
        if (string.IsNullOrWhiteSpace(name))
        {
            throw section.Problem("kind", $"is required: one of {string.Join(", ", Names)}");
        }
        if (!ByName.TryGetValue(name, out var kind))
        {
            throw section.Problem("kind", $"= '{name}' is unknown: known kinds are {string.Join(", ", Names)}");
        }
        var task = kind.Parse(section, quick);
        section.RequireAllKnown();
        return task;
    }
}
