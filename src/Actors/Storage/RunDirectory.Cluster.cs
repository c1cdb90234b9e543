using System.Text.Json;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// The coordinator of a running run: its cluster address, the cluster secret's file (a path, never the secret) and its
/// file server's URL (null: none).
/// </summary>
public sealed record CoordinatorRecord(string Address, string SecretPath, string? Files = null);

/// <summary>
/// Where the run's coordinator listens, which secret file its cluster uses, and where its file server hands out the
/// starting members by content hash (<c>cluster.json</c>, written by <c>evolver run</c> once its node is up), so that
/// <c>evolver node</c> on a machine that shares the run directory can join without being told (docs/architecture.md §4).
/// </summary>
public sealed partial class RunDirectory
{
    public const string ClusterFileName = "cluster.json";

    public string ClusterPath => Path.Combine(Root, ClusterFileName);

    /// <summary>The run's own cluster secret when its config names none (docs/architecture.md §4, "Security").</summary>
    public string ClusterSecretPath => Path.Combine(Root, Hosting.ClusterSecret.RunFileName);

    /// <summary>
    /// Records the coordinator's cluster address (an Akka address such as <c>akka.ssl.tcp://evolver@127.0.0.1:41234</c>),
    /// the path of its cluster secret and its file server's URL (null: none).
    /// </summary>
    public void RecordCoordinator(string address, string secretPath, string? files = null)
    {
        var record = new Dictionary<string, object> { ["coordinator"] = address, ["secret"] = secretPath, ["pid"] = Environment.ProcessId };
        if (files is not null)
        {
            record["files"] = files;
        }
        StoragePaths.WriteTextAtomically(ClusterPath, JsonSerializer.Serialize(record, Json) + "\n", durable: false);
    }

    /// <summary>Removes <c>cluster.json</c> when the coordinator stops (a killed one leaves it; its dead pid tells).</summary>
    public void ForgetCoordinator() => File.Delete(ClusterPath);

    /// <summary>The coordinator if its process is alive, else null (one line if the file is damaged).</summary>
    public CoordinatorRecord? RunningCoordinator()
    {
        var text = ReadText(ClusterPath);
        if (text is null)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var address = root.GetProperty("coordinator").GetString() ?? throw new InvalidOperationException("'coordinator' is null");
            // A coordinator older than the cluster secret recorded none: its run's own secret is the one to try.
            var secret = root.TryGetProperty("secret", out var recorded) ? recorded.GetString() ?? ClusterSecretPath : ClusterSecretPath;
            var files = root.TryGetProperty("files", out var url) ? url.GetString() : null;
            var pid = root.GetProperty("pid").GetInt32();
            return ProcessLiveness.IsAlive(pid) ? new CoordinatorRecord(address, secret, files) : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new EvolverException($"run '{RunId}': {ClusterPath} is damaged ({e.Message.Split('\n')[0]})");
        }
    }
}
