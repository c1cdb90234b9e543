using EvolverActors.Actors.Storage;

namespace EvolverActors.Host.Run;

/// <summary>
/// The mark of a standby coordinator's own copy of a run directory (docs/architecture.md §4): <c>standby.json</c> names
/// the file server it was copied from. A run directory without it is the run's own (or shared with it), and a standby
/// there reads it as it is.
/// </summary>
internal static class StandbyReplica
{
    public const string FileName = "standby.json";

    /// <summary>Whether a standby should (re)fetch the run into <paramref name="run"/>: it is absent here, or it is such a copy.</summary>
    public static bool IsFor(RunDirectory run) => !run.Exists || File.Exists(Path.Combine(run.Root, FileName));

    public static void Mark(RunDirectory run, string server) =>
        StoragePaths.WriteTextAtomically(Path.Combine(run.Root, FileName),
            System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["copied_from"] = server }) + "\n");
}
