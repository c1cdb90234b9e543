using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Files;

/// <summary>
/// The bearer token of a run's file server (docs/architecture.md §4): random, made once per run and kept in the run
/// directory as <c>files.token</c>, readable by its owner only (0600), so that nodes sharing the run directory read it;
/// a node on another host is given it in <see cref="EnvironmentVariable"/> (which a coordinator takes as its token too).
/// </summary>
internal static class FileToken
{
    public const string FileName = "files.token";
    public const string EnvironmentVariable = "EVOLVER_FILES_TOKEN";

    public static string PathIn(RunDirectory run) => Path.Combine(run.Root, FileName);

    /// <summary>
    /// The run's token: <see cref="EnvironmentVariable"/> when the coordinator is given one (an operator hands the same
    /// value to every node: deploy/), else made on first use and kept across resumes, so a remote node's copy stays
    /// valid. Either way it is in <c>files.token</c>, for nodes that share the run directory.
    /// </summary>
    public static string GetOrCreate(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var path = PathIn(run);
        var given = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value ? value.Trim() : null;
        return Run.OwnerOnlyToken.GetOrCreate(path, given);
    }

    /// <summary>The token a node presents: <see cref="EnvironmentVariable"/>, else the run directory's file; one line when there is neither.</summary>
    public static string ForNode(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given)
        {
            return given.Trim();
        }
        var path = PathIn(run);
        if (!run.Exists)
        {
            throw new EvolverException($"{EnvironmentVariable} is not set: set it to the coordinator's file server token ({FileName} in the coordinator's run directory)");
        }
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvolverException($"{path}: the file server's token cannot be read ({e.GetType().Name}): set {EnvironmentVariable} to the token in the coordinator's run directory");
        }
    }
}
