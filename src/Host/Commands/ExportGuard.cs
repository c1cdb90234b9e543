using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Commands;

/// <summary>Where <c>evolver export</c> may write: never over what the run depends on.</summary>
internal static class ExportGuard
{
    /// <summary>
    /// Refuses an export target that would overwrite what the run depends on: a population member's checkpoint
    /// directory (or the directory of a single-file member), its statistics' directory, the base, the zoo directory
    /// itself, or anything inside the run's own directory; and a non-empty directory unless <paramref name="force"/>.
    /// </summary>
    public static void Require(string output, bool force, RunPopulation population, RunDirectory run)
    {
        var target = Full(output);
        var guarded = new List<(string Path, string What)>();
        if (population.ZooDirectory is { } zoo)
        {
            guarded.Add((Full(zoo), $"the zoo directory of run '{run.RunId}'"));
        }
        for (var slot = 0; slot < population.Members.Count; slot++)
        {
            var what = $"population member {slot} ({population.Names[slot]}) of run '{run.RunId}'";
            guarded.Add((CheckpointDirectory(population.Members[slot]), what));
            foreach (var statistics in new[] { population.Fisher[slot], population.Grams[slot] })
            {
                if (statistics is not null)
                {
                    guarded.Add((CheckpointDirectory(statistics), what));
                }
            }
        }
        if (population.Base is { } basePath)
        {
            guarded.Add((CheckpointDirectory(basePath), $"the base model of run '{run.RunId}'"));
        }
        if (guarded.FirstOrDefault(g => g.Path == target) is { Path: not null } hit)
        {
            throw new EvolverException($"--out {output}: is {hit.What}; exporting there would overwrite it");
        }
        var root = Full(run.Root);
        if (target == root || target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new EvolverException($"--out {output}: is inside the directory of run '{run.RunId}' ({root})");
        }
        if (File.Exists(output))
        {
            throw new EvolverException($"--out {output}: is a file, not a directory");
        }
        if (!force && Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            throw new EvolverException($"--out {output}: is not empty; give --force to write into it (files of the same names are replaced)");
        }
    }

    private static string CheckpointDirectory(string path) => Directory.Exists(path) ? Full(path) : Full(Path.GetDirectoryName(Full(path))!);

    private static string Full(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
