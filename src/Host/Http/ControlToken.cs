using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Http;

/// <summary>
/// The bearer token every write call of a run's control API needs (docs/architecture.md §6): random, kept in the run
/// directory as <c>control.token</c> with owner-only permissions; the CLI commands read it there, a remote client is
/// given it in <see cref="EnvironmentVariable"/>.
/// </summary>
internal static class ControlToken
{
    public const string FileName = "control.token";
    public const string EnvironmentVariable = "EVOLVER_CONTROL_TOKEN";

    public static string GetOrCreate(RunDirectory run) => Run.OwnerOnlyToken.GetOrCreate(Path.Combine(run.Root, FileName));

    /// <summary>The token a client presents: <see cref="EnvironmentVariable"/>, else the run directory's file; one line when there is neither.</summary>
    public static string ForClient(RunDirectory run)
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given)
        {
            return given.Trim();
        }
        var path = Path.Combine(run.Root, FileName);
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvolverException($"{path}: the run's control token cannot be read ({e.GetType().Name}): run this as the run's owner, or set {EnvironmentVariable}");
        }
    }
}
