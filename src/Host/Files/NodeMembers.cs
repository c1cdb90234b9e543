using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Host.Files;

/// <summary>
/// A worker node's starting members (docs/architecture.md §4): those its config names and this host has are used in
/// place; each that is missing here is fetched by the content hash <c>run.json</c> records from the coordinator's file
/// server into the node's cache, verified, and named in the config instead. The node's fingerprint check then reads
/// every member, fetched or not, against <c>run.json</c> again, so no weights it could not verify are ever loaded.
/// </summary>
internal static class NodeMembers
{
    /// <summary>The member paths <paramref name="spec"/> names, slot by slot; null when its zoo's manifest is not here.</summary>
    public static IReadOnlyList<string>? Named(PopulationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Zoo is not { } zoo ? spec.Models
            : File.Exists(Path.Combine(zoo, ZooManifest.FileName)) ? RunPopulation.FromZoo(zoo).Members
            : null;
    }

    /// <summary>The slots of <paramref name="recorded"/> whose member is not at the path <paramref name="named"/> gives (all of them when null).</summary>
    public static IReadOnlyList<int> Missing(IReadOnlyList<string>? named, RunFingerprint recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        return [.. recorded.Members.Select(m => m.Slot).Where(slot => named is null || slot >= named.Count || !Here(named[slot]))];
    }

    /// <summary>
    /// <paramref name="config"/> as it is when every member is here, else with the missing ones taken from the cache or
    /// fetched, listed as <c>models</c>.
    /// </summary>
    /// <param name="config">The node's config.</param>
    /// <param name="recorded">The run's fingerprint: each member's content hash.</param>
    /// <param name="cache">The node's cache: a member complete there is used without asking any server.</param>
    /// <param name="fetcher">Makes the fetcher, the first time a member is not in the cache.</param>
    /// <param name="say">Reports each member taken from the cache or fetched.</param>
    public static async Task<RunConfiguration> LocalizeAsync(RunConfiguration config, RunFingerprint recorded, string cache, Func<WeightFetcher> fetcher, Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(fetcher);
        var spec = config.Population;
        var named = Named(spec);
        var missing = Missing(named, recorded);
        if (missing.Count == 0)
        {
            return config;
        }
        var zoo = spec.Zoo is not null && named is not null ? RunPopulation.FromZoo(spec.Zoo) : null;
        var dataSeed = spec.DataSeed ?? zoo?.DataSeed;
        if (dataSeed is null && spec.Zoo is not null && config.Simulation is null)
        {
            throw new EvolverException($"{config.Source}: population.zoo {spec.Zoo} is not on this host, so its data seed is unknown: "
                + "set population.data-seed to the run's (the zoo manifest's seed)");
        }
        WeightFetcher? client = null;
        var models = new List<string>();
        foreach (var member in recorded.Members.OrderBy(m => m.Slot))
        {
            if (!missing.Contains(member.Slot))
            {
                models.Add(named![member.Slot]);
                continue;
            }
            var sha256 = member.Sha256.ToLowerInvariant();
            if (WeightFetcher.Cached(cache, sha256) is { } cached)
            {
                say($"starting member {member.Slot} ({member.Name}) is not at its config path; using the verified copy in {cached}");
                models.Add(cached);
                continue;
            }
            client ??= fetcher();
            var started = System.Diagnostics.Stopwatch.StartNew();
            var (directory, downloaded) = await client.FetchMemberAsync(sha256).ConfigureAwait(false);
            say(downloaded == 0
                ? $"starting member {member.Slot} ({member.Name}) is not at its config path; using the verified copy in {directory}"
                : $"starting member {member.Slot} ({member.Name}) is not at its config path; fetched {Commands.ByteSize.Format(downloaded)} from {client.Server} "
                    + $"in {started.Elapsed.TotalSeconds:F1} s into {directory} (sha256 verified)");
            models.Add(directory);
        }
        return config with
        {
            Population = new PopulationSpec
            {
                Models = models,
                Base = spec.Base ?? (zoo?.Base is { } b && Here(b) ? b : null),
                Fisher = spec.Zoo is null ? spec.Fisher : Complete(zoo?.Fisher),
                Gram = spec.Zoo is null ? spec.Gram : Complete(zoo?.Grams),
                Quick = spec.Quick,
                DataSeed = dataSeed,
            },
        };
    }

    /// <summary>A zoo's statistics when it has them for every member, else none.</summary>
    private static IReadOnlyList<string> Complete(IReadOnlyList<string?>? paths) =>
        paths is not null && paths.All(p => p is not null && Here(p)) ? [.. paths!] : [];

    private static bool Here(string path) => File.Exists(path) || Directory.Exists(path);
}
