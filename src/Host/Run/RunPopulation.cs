using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Host.Run;

/// <summary>A run's starting population: the zoo's members, their statistics, and the data seed.</summary>
internal sealed record RunPopulation(string ZooDirectory, ZooManifest Manifest, IReadOnlyList<string> Members,
    IReadOnlyList<string?> Fisher, IReadOnlyList<string?> Grams)
{
    /// <summary>Loads the zoo manifest and checks, from headers only, that every member has the same layout.</summary>
    public static RunPopulation Load(string zooDirectory)
    {
        if (!File.Exists(Path.Combine(zooDirectory, ZooManifest.FileName)))
        {
            throw new EvolverException($"{zooDirectory}: no zoo here (no {ZooManifest.FileName}); build it with 'evolver zoo build'");
        }
        var manifest = ZooManifest.Load(zooDirectory);
        if (manifest.Models.Count < 2)
        {
            throw new EvolverException($"{zooDirectory}: a population needs at least 2 models, the zoo has {manifest.Models.Count}");
        }
        string Full(string relative) => Path.Combine(zooDirectory, relative);
        var members = manifest.Models.Select(m => Full(m.Path)).ToList();
        foreach (var member in members)
        {
            if (!Directory.Exists(member) && !File.Exists(member))
            {
                throw new EvolverException($"{member}: population member is missing");
            }
        }
        Checkpoint.RequireSameLayout(members);
        return new RunPopulation(zooDirectory, manifest, members,
            [.. manifest.Models.Select(m => m.Fisher is null ? null : Full(m.Fisher))],
            [.. manifest.Models.Select(m => m.Gram is null ? null : Full(m.Gram))]);
    }
}
