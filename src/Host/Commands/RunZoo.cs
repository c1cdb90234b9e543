using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Host.Commands;

/// <summary>
/// Finds the zoo a recorded run started from, whatever the current directory: a relative <c>population.zoo</c> is
/// relative to the directory <c>evolver run</c> was started in, which run.json records
/// (<see cref="RunFingerprint.WorkingDirectory"/>). Runs created before that was recorded are tried against the current
/// directory and, for the default runs root <c>&lt;dir&gt;/.evolver/runs</c>, against <c>&lt;dir&gt;</c>. Whatever is
/// found must still hold the run's starting population, byte for byte (the SHA-256s in run.json): statistics or a
/// first member from a rebuilt zoo would silently change what is exported.
/// </summary>
internal static class RunZoo
{
    public static string Resolve(RunDirectory run, string configured)
    {
        var fingerprint = run.ReadFingerprint()
            ?? throw new EvolverException($"run '{run.RunId}' has no {RunDirectory.FingerprintFileName} in {run.Root}: it never started");
        var candidates = Candidates(run, fingerprint, configured);
        var problems = new List<string>();
        foreach (var candidate in candidates)
        {
            if (!File.Exists(Path.Combine(candidate, ZooManifest.FileName)))
            {
                problems.Add($"{candidate} holds no zoo ({ZooManifest.FileName})");
                continue;
            }
            if (PopulationDifference(candidate, fingerprint) is not { } difference)
            {
                return candidate;
            }
            problems.Add($"the zoo at {candidate} holds {difference}");
        }
        var where = Path.IsPathRooted(configured) || fingerprint.WorkingDirectory is not null
            ? ""
            : " (relative to the directory 'evolver run' was started in, which this run did not record: export from there)";
        throw new EvolverException($"run '{run.RunId}': zoo '{configured}' not found{where}: {string.Join("; ", problems)}");
    }

    private static List<string> Candidates(RunDirectory run, RunFingerprint fingerprint, string configured)
    {
        if (Path.IsPathRooted(configured))
        {
            return [Path.GetFullPath(configured)];
        }
        if (fingerprint.WorkingDirectory is { } recorded)
        {
            return [Path.GetFullPath(Path.Combine(recorded, configured))];
        }
        var candidates = new List<string> { Path.GetFullPath(configured) };
        var runsParent = Path.GetDirectoryName(run.RunsRoot);
        if (Path.GetFileName(run.RunsRoot) == "runs" && Path.GetFileName(runsParent) == ".evolver" && Path.GetDirectoryName(runsParent) is { } home)
        {
            candidates.Add(Path.GetFullPath(Path.Combine(home, configured)));
        }
        return [.. candidates.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>How the zoo's models differ from the run's recorded starting population, or null when they do not.</summary>
    private static string? PopulationDifference(string zoo, RunFingerprint fingerprint)
    {
        var manifest = ZooManifest.Load(zoo);
        var members = new List<MemberFingerprint>();
        for (var slot = 0; slot < manifest.Models.Count; slot++)
        {
            var path = Path.Combine(zoo, manifest.Models[slot].Path);
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                return $"no checkpoint for slot {slot} ({path} is missing)";
            }
            members.Add(new MemberFingerprint(slot, manifest.Models[slot].Name, RunFingerprint.Sha256OfCheckpoint(path)));
        }
        return fingerprint.FirstDifference(fingerprint with { Members = members });
    }

    /// <summary>
    /// Refuses an export target that would overwrite what the run depends on: a population member's checkpoint
    /// directory (or the directory of a single-file member), its statistics' directory, the zoo's base, the zoo
    /// directory itself, or anything inside the run's own directory.
    /// </summary>
    public static void RequireOutsidePopulation(string output, RunPopulation population, RunDirectory run)
    {
        var target = Full(output);
        var zoo = Full(population.ZooDirectory);
        var guarded = new List<(string Path, string What)> { (zoo, "the zoo directory of run '" + run.RunId + "'") };
        for (var slot = 0; slot < population.Members.Count; slot++)
        {
            var what = $"population member {slot} ({population.Manifest.Models[slot].Name}) of run '{run.RunId}'";
            guarded.Add((CheckpointDirectory(population.Members[slot]), what));
            foreach (var statistics in new[] { population.Fisher[slot], population.Grams[slot] })
            {
                if (statistics is not null)
                {
                    guarded.Add((CheckpointDirectory(statistics), what));
                }
            }
        }
        guarded.Add((CheckpointDirectory(Path.Combine(zoo, population.Manifest.Base)), $"the base model of run '{run.RunId}'"));
        if (guarded.FirstOrDefault(g => g.Path == target) is { Path: not null } hit)
        {
            throw new EvolverException($"--out {output}: is {hit.What}; exporting there would overwrite it");
        }
        var root = Full(run.Root);
        if (target == root || target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new EvolverException($"--out {output}: is inside the directory of run '{run.RunId}' ({root})");
        }
    }

    private static string CheckpointDirectory(string path) => Directory.Exists(path) ? Full(path) : Full(Path.GetDirectoryName(Full(path))!);

    private static string Full(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
