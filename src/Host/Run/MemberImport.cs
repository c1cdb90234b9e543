using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Run;

/// <summary>
/// Brings a checkpoint into a running run before it is admitted (docs/architecture.md §6, "Admission and retirement"):
/// its layout is checked against the run's starting members (headers only; the first difference is named), every
/// floating tensor must be finite, and its weights are written to the run's population snapshots under
/// <c>a-</c> and their content hash, so that every node can obtain them and nothing depends on the user's directory
/// staying where it is. In a merged fisher or regmean run the member's statistics come with it (<c>--fisher</c> or
/// <c>--gram</c>), are checked against the population's layout and kept in the snapshots likewise, under <c>s-</c> and
/// their content hash. The steward then scores and records the admission.
/// </summary>
/// <param name="referenceCheckpoint">A starting member, whose layout every admitted one must have.</param>
/// <param name="snapshots">The run's population snapshots.</param>
/// <param name="statistics">The kind of statistics every member of the run has (merged fisher or regmean), or null.</param>
internal sealed class MemberImport(string referenceCheckpoint, PopulationSnapshots snapshots, StatisticsKind? statistics = null)
{
    /// <summary>A checkpoint ready to be admitted: its weight id, content hash and full path.</summary>
    /// <remarks>
    /// <c>StartingId</c>: the id the same checkpoint has as a starting member (the steward refuses a member twice).
    /// <c>Statistics</c>: the id of its merge statistics in the snapshots, in a merged fisher or regmean run.
    /// </remarks>
    public sealed record Imported(string WeightsId, string ContentHash, string Source, string Name, string StartingId, string? Statistics = null);

    /// <summary>The option an admission to this run needs besides the model (<c>--fisher FILE</c>, <c>--gram FILE</c>), or "".</summary>
    public string StatisticsOption => statistics is { } kind ? $" --{StatisticsFiles.Code(kind)} FILE" : "";

    /// <summary>What an admission names besides the checkpoint: its Fisher or Gram statistics file, if any.</summary>
    public sealed record GivenStatistics(string? Fisher, string? Gram);

    public Imported Import(string path, string? name, GivenStatistics? given = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var source = Path.GetFullPath(path);
        if (!File.Exists(source) && !Directory.Exists(source))
        {
            throw new EvolverException($"{source}: no checkpoint here (a .safetensors file or a Hugging Face model directory)");
        }
        try
        {
            Checkpoint.RequireSameLayout([referenceCheckpoint, source]);
        }
        catch (PopulationMismatchException e)
        {
            throw new EvolverException($"{source} does not fit the run's population: {e.Message}");
        }
        var statisticsId = ImportStatistics(StatisticsPath(source, given ?? new GivenStatistics(null, null)));
        using var weights = WeightFileException.Load("admitted", source, TorchSharp.torch.CPU);
        Checkpoint.RequireFinite(weights, source); // on the loaded weights: the checkpoint is read once

        var hash = WeightHash.Of(weights);
        var id = IdOf(hash);
        // Kept until a population snapshot names it (the steward writes one before it records the admission).
        snapshots.Spill(id, weights, long.MaxValue, hash);
        return new Imported(id, hash, source, string.IsNullOrWhiteSpace(name) ? DefaultName(source) : name.Trim(),
            RunWeights.StartingId(RunFingerprint.Sha256OfCheckpoint(source)), statisticsId);
    }

    /// <summary>The id of merge statistics with content hash <paramref name="contentHash"/>.</summary>
    public static string StatisticsIdOf(string contentHash) => "s-" + contentHash[..Math.Min(32, contentHash.Length)];

    /// <summary>The statistics file this run needs from the admission, or null when it needs none; what does not fit is one line.</summary>
    private string? StatisticsPath(string source, GivenStatistics given)
    {
        if (statistics is not { } kind)
        {
            return given.Fisher is null && given.Gram is null ? null
                : throw new EvolverException("this run does not merge with fisher or regmean: an admitted member's statistics are not used (leave out --fisher/--gram)");
        }
        var (wanted, other) = kind == StatisticsKind.Fisher ? (given.Fisher, given.Gram) : (given.Gram, given.Fisher);
        var code = StatisticsFiles.Code(kind);
        if (other is not null)
        {
            throw new EvolverException($"this run merges with {(kind == StatisticsKind.Fisher ? "fisher" : "regmean")}: give the new member's {code} statistics (--{code}), not the other kind");
        }
        return wanted ?? throw new EvolverException(
            $"this run merges with {(kind == StatisticsKind.Fisher ? "fisher" : "regmean")}: give the new member's statistics with --{code} FILE "
            + $"(evolver stats --task TASK --model {source} --out DIR writes them)");
    }

    /// <summary>Checks the statistics at <paramref name="path"/> against the population's layout and keeps them in the snapshots; their id.</summary>
    private string? ImportStatistics(string? path)
    {
        if (path is null || statistics is not { } kind)
        {
            return null;
        }
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new EvolverException($"{full}: no statistics file here");
        }
        using var set = StatisticsFiles.Load(full, kind, Checkpoint.ReadLayout(referenceCheckpoint));
        var hash = WeightHash.Of(set);
        var id = StatisticsIdOf(hash);
        snapshots.Spill(id, set, long.MaxValue, hash); // kept until a snapshot names it (the admission's does)
        return id;
    }

    /// <summary>The weight id of an admitted member with content hash <paramref name="contentHash"/>.</summary>
    public static string IdOf(string contentHash) => "a-" + contentHash[..Math.Min(32, contentHash.Length)];

    /// <summary>A model directory's name (or a file's name without its extension).</summary>
    private static string DefaultName(string source) => Directory.Exists(source)
        ? new DirectoryInfo(source).Name
        : Path.GetFileNameWithoutExtension(source);
}
