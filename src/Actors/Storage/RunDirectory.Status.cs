using System.Globalization;
using System.Text.Json;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Storage;

/// <summary>The status view, <c>status.json</c>.</summary>
public sealed partial class RunDirectory
{
    private static readonly Lazy<string?> OwnStartToken = new(() => ProcessLiveness.StartToken(Environment.ProcessId));

    /// <summary>
    /// Replaces <c>status.json</c> atomically (temp + rename; not fsynced: the journal is the record). A status of this
    /// process gets its start token (so that a later reader tells a reused pid apart), and the first one that reports
    /// evaluations (the steward writes them after persisting them) records <c>run.started</c>.
    /// </summary>
    public void WriteStatus(RunStatusView status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (status.StartToken is null && status.Pid == Environment.ProcessId && OwnStartToken.Value is { } token)
        {
            status = status with { StartToken = token };
        }
        StoragePaths.WriteTextAtomically(StatusPath, JsonSerializer.Serialize(status, Json) + "\n", durable: false);
        if (status.Evaluations > 0)
        {
            RecordStarted();
        }
    }

    /// <summary>
    /// Says at once that this process holds the run and is starting (a resumed run's last counts are kept), so that
    /// `evolver status` answers from the first moment; the steward's first status replaces it.
    /// </summary>
    public void WriteStarting(string mode, string schedule, int members)
    {
        var now = DateTime.UtcNow;
        RunStatusView? previous = null;
        try
        {
            previous = ReadStatus();
        }
        catch (EvolverException)
        {
            // A damaged status.json is replaced.
        }
        WriteStatus((previous ?? new RunStatusView(RunId, RunStates.Starting, 0, 0, 0, double.NaN, null, 0, 0, null, now, now, 0, null, mode, schedule,
            Members: members)) with
        {
            State = RunStates.Starting,
            StartedUtc = now,
            UpdatedUtc = now,
            Pid = Environment.ProcessId,
            StartToken = null,
            Reason = null,
            Http = null,
            EvalsPerS = 0,
            EtaS = null,
        });
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
    /// The status as it really is: one that says "running" while its process is gone (a crash or kill -9 wrote no
    /// final status) is reported as "interrupted", with a reason saying so. Read-only: nothing is written.
    /// </summary>
    public RunStatusView? CurrentStatus()
    {
        var status = ReadStatus();
        if (status is not { IsRunning: true } || IsProcessRunning(status))
        {
            return status;
        }
        var pid = status.Pid.ToString(CultureInfo.InvariantCulture);
        return status with
        {
            State = RunStates.Interrupted,
            Reason = status.Reason ?? $"process {pid} is gone (it crashed or was killed); the same `evolver run` resumes it",
        };
    }

    /// <summary>
    /// Whether the process that wrote a "running" status still runs it: the pid is alive and is the same process (its
    /// start token, from status.json or else from run.lock when the lock names that pid). A status with no token
    /// anywhere (written by an older version, or whose lock was removed, as prune does) counts as running only while a
    /// live process holds run.lock under that pid: a running run always holds its lock, and a bare pid may be reused.
    /// </summary>
    private bool IsProcessRunning(RunStatusView status)
    {
        var pid = status.Pid;
        if (status.StartToken is { } own)
        {
            return ProcessLiveness.IsAlive(pid, own);
        }
        if (ReadText(LockPath) is { } text && ParseLock(text) is (var holder, var token) && holder == pid)
        {
            return ProcessLiveness.IsAlive(pid, token);
        }
        return false;
    }
}
