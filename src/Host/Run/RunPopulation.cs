using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Host.Run;

/// <summary>
/// A run's starting population: the member checkpoints and their names, per-member merge statistics, the optional
/// base, and the seed tasks draw their data with. From a zoo's manifest or from a plain list of checkpoints.
/// </summary>
internal sealed record RunPopulation(IReadOnlyList<string> Names, IReadOnlyList<string> Members,
    IReadOnlyList<string?> Fisher, IReadOnlyList<string?> Grams, string? Base, int DataSeed,
    ZooManifest? Manifest = null, string? ZooDirectory = null)
{
    /// <summary>Checks, from headers only, that every member exists and has the same layout (the first difference is named).</summary>
    public static RunPopulation Load(PopulationSpec spec)
    {
        var population = spec.Zoo is { } zoo ? FromZoo(zoo) : FromModels(spec);
        if (spec.DataSeed is { } seed)
        {
            population = population with { DataSeed = seed };
        }
        foreach (var member in population.Members)
        {
            if (!Directory.Exists(member) && !File.Exists(member))
            {
                throw new EvolverException($"{member}: population member is missing");
            }
        }
        Checkpoint.RequireSameLayout(population.Members);
        return population;
    }

    /// <summary>The zoo in <paramref name="zooDirectory"/> (the experiment's and demo's populations).</summary>
    public static RunPopulation FromZoo(string zooDirectory)
    {
        if (!File.Exists(Path.Combine(zooDirectory, ZooManifest.FileName)))
        {
            throw new EvolverException($"{zooDirectory}: no zoo here (no {ZooManifest.FileName}); build it with 'evolver zoo build', or list checkpoints with 'models = [...]'");
        }
        var manifest = ZooManifest.Load(zooDirectory);
        if (manifest.Models.Count < 2)
        {
            throw new EvolverException($"{zooDirectory}: a population needs at least 2 models, the zoo has {manifest.Models.Count}");
        }
        string Full(string relative) => Path.GetFullPath(Path.Combine(zooDirectory, relative));
        return new RunPopulation(
            [.. manifest.Models.Select(m => m.Name)],
            [.. manifest.Models.Select(m => Full(m.Path))],
            [.. manifest.Models.Select(m => m.Fisher is null ? null : Full(m.Fisher))],
            [.. manifest.Models.Select(m => m.Gram is null ? null : Full(m.Gram))],
            Full(manifest.Base), manifest.Seed, manifest, Path.GetFullPath(zooDirectory));
    }

    private static RunPopulation FromModels(PopulationSpec spec)
    {
        var names = new List<string>();
        foreach (var model in spec.Models)
        {
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(model));
            if (name.Equals(Checkpoint.IndexFileName, StringComparison.Ordinal) || name.EndsWith(".safetensors", StringComparison.Ordinal))
            {
                name = $"{Path.GetFileName(Path.GetDirectoryName(model))}/{name}";
            }
            names.Add(names.Contains(name, StringComparer.Ordinal) ? $"{name}#{names.Count}" : name);
        }
        if (spec.Base is { } basePath && !Directory.Exists(basePath) && !File.Exists(basePath))
        {
            throw new EvolverException($"{basePath}: the base checkpoint is missing");
        }
        foreach (var statistics in spec.Fisher.Concat(spec.Gram))
        {
            if (!Directory.Exists(statistics) && !File.Exists(statistics))
            {
                throw new EvolverException($"{statistics}: merge statistics are missing");
            }
        }
        IReadOnlyList<string?> Statistics(IReadOnlyList<string> paths) =>
            paths.Count == 0 ? [.. spec.Models.Select(_ => (string?)null)] : [.. paths];
        return new RunPopulation(names, spec.Models, Statistics(spec.Fisher), Statistics(spec.Gram), spec.Base, DataSeed: 0);
    }
}
