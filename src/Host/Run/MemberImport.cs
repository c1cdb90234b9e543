using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Run;

/// <summary>
/// Brings a checkpoint into a running run before it is admitted (docs/architecture.md §6, "Admission and retirement"):
/// its layout is checked against the run's starting members (headers only; the first difference is named), every
/// floating tensor must be finite, and its weights are written to the run's population snapshots under
/// <c>a-</c> and their content hash, so that every node can obtain them and nothing depends on the user's directory
/// staying where it is. The steward then scores and records the admission.
/// </summary>
internal sealed class MemberImport(string referenceCheckpoint, PopulationSnapshots snapshots)
{
    /// <summary>A checkpoint ready to be admitted: its weight id, content hash and full path.</summary>
    /// <remarks><c>StartingId</c>: the id the same checkpoint has as a starting member (the steward refuses a member twice).</remarks>
    public sealed record Imported(string WeightsId, string ContentHash, string Source, string Name, string StartingId);

    public Imported Import(string path, string? name)
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
        using var weights = WeightFileException.Load("admitted", source, TorchSharp.torch.CPU);
        Checkpoint.RequireFinite(weights, source); // on the loaded weights: the checkpoint is read once

        var hash = WeightHash.Of(weights);
        var id = IdOf(hash);
        // Kept until a population snapshot names it (the steward writes one before it records the admission).
        snapshots.Spill(id, weights, long.MaxValue, hash);
        return new Imported(id, hash, source, string.IsNullOrWhiteSpace(name) ? DefaultName(source) : name.Trim(),
            RunWeights.StartingId(RunFingerprint.Sha256OfCheckpoint(source)));
    }

    /// <summary>The weight id of an admitted member with content hash <paramref name="contentHash"/>.</summary>
    public static string IdOf(string contentHash) => "a-" + contentHash[..Math.Min(32, contentHash.Length)];

    /// <summary>A model directory's name (or a file's name without its extension).</summary>
    private static string DefaultName(string source) => Directory.Exists(source)
        ? new DirectoryInfo(source).Name
        : Path.GetFileNameWithoutExtension(source);
}
