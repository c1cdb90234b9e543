using EvolverActors.Actors.Storage;

namespace EvolverActors.Host.Run;

/// <summary>
/// A worker's own directory for a run it joins without the run directory (docs/architecture.md §4): the run's
/// fingerprint as the coordinator's file server sent it (<c>run.json</c>), the population snapshots it fetched
/// (<c>snapshots/</c>, verified) and its evaluators' log. Default <c>&lt;cache&gt;/nodes/&lt;run-id&gt;</c>; nothing of it is
/// ever read by another process.
/// </summary>
internal sealed class NodeDirectory
{
    private NodeDirectory(string root) => Root = Path.GetFullPath(root);

    public string Root { get; }

    public string FingerprintPath => Path.Combine(Root, RunDirectory.FingerprintFileName);

    public string SnapshotsPath => Path.Combine(Root, RunWeights.SnapshotsDirectoryName);

    /// <summary><paramref name="given"/> (<c>--node-dir</c>), else <c>&lt;cache&gt;/nodes/&lt;run-id&gt;</c>.</summary>
    public static NodeDirectory For(string? given, string cache, string runId) =>
        new(given ?? Path.Combine(cache, "nodes", StoragePaths.RequireValidId(runId, "run id")));

    /// <summary>The log of node <paramref name="name"/>'s evaluators (external workers' stderr).</summary>
    public string LogPath(string name) => Path.Combine(Root, $"evaluators-{name}.log");

    /// <summary>Keeps the fingerprint the coordinator's file server sent, and reads it as one (one line if it is not).</summary>
    public RunFingerprint KeepFingerprint(string runId, string json, string server)
    {
        var fingerprint = RunDirectory.ParseFingerprint(json, runId, server + Files.FileServer.RunRoute);
        StoragePaths.WriteTextAtomically(FingerprintPath, json, durable: false);
        return fingerprint;
    }
}
