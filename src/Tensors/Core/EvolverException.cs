namespace EvolverActors.Tensors;

/// <summary>
/// A problem with the user's input (a file, a flag, a population) rather than a bug.
/// The message is one line that names the thing and the problem; the CLI prints it without a stack trace.
/// </summary>
public class EvolverException : Exception
{
    public EvolverException(string message) : base(message) { }
    public EvolverException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A checkpoint file or index that does not follow the safetensors format.</summary>
public sealed class CheckpointFormatException(string path, string problem)
    : EvolverException($"{path}: {problem}")
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}

/// <summary>Members of a population that do not share names, shapes and dtypes.</summary>
public sealed class PopulationMismatchException(string message) : EvolverException(message);
