using System.Globalization;
using System.Text.Json;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Storage;

/// <summary>The status view, <c>status.json</c>.</summary>
public sealed partial class RunDirectory
{
    /// <summary>Replaces <c>status.json</c> atomically (temp + rename; not fsynced: the journal is the record).</summary>
    public void WriteStatus(RunStatusView status)
    {
        ArgumentNullException.ThrowIfNull(status);
        StoragePaths.WriteTextAtomically(StatusPath, JsonSerializer.Serialize(status, Json) + "\n", durable: false);
    }

    /// <summary>The status as last written, or null when there is none.</summary>
    public RunStatusView? ReadStatus()
    {
        var text = ReadText(StatusPath);
        if (text is null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<RunStatusView>(text, Json)
                ?? throw new EvolverException($"run '{RunId}': {StatusPath} is empty");
        }
        catch (JsonException e)
        {
            throw new EvolverException($"run '{RunId}': {StatusPath} is not a valid status ({e.Message})", e);
        }
    }

    /// <summary>
    /// The status as it really is: one that says "running" while its process is gone (a crash or kill -9
    /// wrote no final status) is reported as "stopped", with a reason saying so.
    /// </summary>
    public RunStatusView? CurrentStatus()
    {
        var status = ReadStatus();
        if (status is not { IsRunning: true } || IsProcessRunning(status.Pid))
        {
            return status;
        }
        var pid = status.Pid.ToString(CultureInfo.InvariantCulture);
        return status with
        {
            State = RunStates.Stopped,
            Reason = status.Reason ?? $"process {pid} is gone (it crashed or was killed)",
        };
    }

    /// <summary>Alive, and when run.lock names this pid, the very process that took the lock (not a reused pid).</summary>
    private bool IsProcessRunning(int pid)
    {
        var token = ReadText(LockPath) is { } text && ParseLock(text) is (var holder, var t) && holder == pid ? t : null;
        return ProcessLiveness.IsAlive(pid, token);
    }
}
