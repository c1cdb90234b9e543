using System.Text.Json;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// Where the run's coordinator listens (<c>cluster.json</c>, written by <c>evolver run</c> once its node is up), so that
/// <c>evolver node</c> on a machine that shares the run directory can join without being told the address, and where
/// its file server hands out the starting members by content hash (docs/architecture.md §4).
/// </summary>
public sealed partial class RunDirectory
{
    public const string ClusterFileName = "cluster.json";

    public string ClusterPath => Path.Combine(Root, ClusterFileName);

    /// <summary>
    /// Records the coordinator's cluster address (an Akka address such as <c>akka.tcp://evolver@127.0.0.1:41234</c>) and
    /// its file server's URL (null: none).
    /// </summary>
    public void RecordCoordinator(string address, string? files = null)
    {
        var record = new Dictionary<string, object> { ["coordinator"] = address, ["pid"] = Environment.ProcessId };
        if (files is not null)
        {
            record["files"] = files;
        }
        StoragePaths.WriteTextAtomically(ClusterPath, JsonSerializer.Serialize(record, Json) + "\n", durable: false);
    }

    /// <summary>Removes <c>cluster.json</c> when the coordinator stops (a killed one leaves it; its dead pid tells).</summary>
    public void ForgetCoordinator() => File.Delete(ClusterPath);

    /// <summary>The coordinator's address if its process is alive, else null (one line if the file is damaged).</summary>
    public string? RunningCoordinator() => RunningCluster("coordinator");

    /// <summary>The running coordinator's file server URL, or null (no coordinator running, or it serves no files).</summary>
    public string? RunningFileServer() => RunningCluster("files");

    private string? RunningCluster(string property)
    {
        var text = ReadText(ClusterPath);
        if (text is null)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(text);
            var pid = document.RootElement.GetProperty("pid").GetInt32();
            _ = document.RootElement.GetProperty("coordinator"); // the one entry every cluster.json has
            return ProcessLiveness.IsAlive(pid) && document.RootElement.TryGetProperty(property, out var value) ? value.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new EvolverException($"run '{RunId}': {ClusterPath} is damaged ({e.Message.Split('\n')[0]})");
        }
    }
}
