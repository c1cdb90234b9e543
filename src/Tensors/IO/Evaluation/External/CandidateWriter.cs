using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// Writes candidates for an external evaluator as Hugging Face checkpoints in a scratch directory (e.g. /dev/shm):
/// <c>model.safetensors</c> (not fsynced: it is deleted after scoring) plus links to the first member's
/// <c>config.json</c> and tokenizer files (<see cref="CheckpointCompanions"/>), so the evaluator loads a candidate as it loads any checkpoint.
/// One writer per evaluator; <see cref="Dispose"/> removes its scratch directory.
/// </summary>
public sealed class CandidateWriter : IDisposable
{
    private readonly string _root;
    private readonly List<string> _companions = [];
    private long _count;

    /// <param name="scratch">The scratch root (created if missing).</param>
    /// <param name="owner">A name unique among the writers sharing the root (e.g. the evaluator's name and the process id).</param>
    /// <param name="firstMember">The checkpoint whose config and tokenizer files are linked into every candidate.</param>
    public CandidateWriter(string scratch, string owner, string? firstMember)
    {
        _root = Path.Combine(Path.GetFullPath(scratch), owner);
        try
        {
            Directory.CreateDirectory(_root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvolverException($"{_root}: cannot create the evaluator scratch directory: {e.Message}");
        }
        if (firstMember is not null)
        {
            _companions.AddRange(CheckpointCompanions.Find(firstMember));
        }
    }

    /// <summary>Writes <paramref name="weights"/> as a new checkpoint directory and returns its path.</summary>
    public string Write(WeightSet weights)
    {
        var directory = Path.Combine(_root, $"candidate-{Interlocked.Increment(ref _count)}");
        try
        {
            Directory.CreateDirectory(directory);
            SafetensorsWriter.Write(Path.Combine(directory, Checkpoint.SingleFileName), weights.Entries(), durable: false);
            foreach (var companion in _companions)
            {
                File.CreateSymbolicLink(Path.Combine(directory, Path.GetFileName(companion)), companion);
            }
        }
        catch (IOException e)
        {
            Delete(directory);
            throw new EvolverException($"{directory}: cannot write the candidate for the evaluator: {e.Message}");
        }
        return directory;
    }

    /// <summary>Removes a candidate written by <see cref="Write"/> (never throws: scratch space is best effort).</summary>
    public static void Delete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for Dispose (or the operator) to clean.
        }
    }

    public void Dispose() => Delete(_root);
}
