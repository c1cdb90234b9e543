using EvolverActors.Tensors;
using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Host.Config;

/// <summary>
/// Where a run's starting population comes from (<c>evolver.run.population</c>): a zoo built by <c>evolver zoo
/// build</c> (<c>zoo = DIR</c>), or the lab's own checkpoints listed directly (<c>models = [DIR, ...]</c>, with an
/// optional <c>base</c> and per-member <c>statistics { fisher = [...], gram = [...] }</c> for Fisher and RegMean
/// merges). Paths are resolved against the working directory when the config is read.
/// </summary>
internal sealed record PopulationSpec
{
    public string? Zoo { get; init; }
    public IReadOnlyList<string> Models { get; init; } = [];
    public string? Base { get; init; }
    public IReadOnlyList<string> Fisher { get; init; } = [];
    public IReadOnlyList<string> Gram { get; init; } = [];

    /// <summary>A --quick zoo (smaller data for the demo tasks).</summary>
    public bool Quick { get; init; }

    /// <summary>The seed a task draws its data splits with; null = the zoo's own seed (0 for a list of models).</summary>
    public int? DataSeed { get; init; }

    public static PopulationSpec Parse(Settings c)
    {
        var zoo = c.OptionalText("zoo");
        var models = c.OptionalList("models") ?? [];
        var spec = new PopulationSpec
        {
            Zoo = zoo is null ? null : Path.GetFullPath(zoo),
            Models = [.. models.Select(Path.GetFullPath)],
            Base = c.OptionalText("base") is { } b ? Path.GetFullPath(b) : null,
            Fisher = [.. c.List("statistics.fisher").Select(Path.GetFullPath)],
            Gram = [.. c.List("statistics.gram").Select(Path.GetFullPath)],
            Quick = c.Bool("quick", false),
            DataSeed = c.Has("data-seed") ? c.Int("data-seed", 0, 0) : null,
        };
        if ((zoo is null) == (models.Count == 0))
        {
            throw new EvolverException($"{c.Source}: {c.Path} needs exactly one of 'zoo = DIR' or 'models = [DIR, DIR, ...]'");
        }
        if (zoo is null && models.Count < 2)
        {
            throw c.Problem("models", $"lists {models.Count} checkpoint: a population needs at least 2");
        }
        if (zoo is not null && (spec.Base is not null || spec.Fisher.Count > 0 || spec.Gram.Count > 0))
        {
            throw new EvolverException($"{c.Source}: {c.Path}: base and statistics come from the zoo's manifest; give them only with 'models = [...]'");
        }
        foreach (var (key, list) in new[] { ("statistics.fisher", spec.Fisher), ("statistics.gram", spec.Gram) })
        {
            if (list.Count > 0 && list.Count != models.Count)
            {
                throw c.Problem(key, $"lists {list.Count} paths for {models.Count} models: give one per model, in the same order");
            }
        }
        return spec;
    }
}
