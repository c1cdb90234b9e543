using System.Globalization;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Storage;

/// <summary>The run lock: one process runs a run at a time; the lock of a dead process is taken over.</summary>
public sealed partial class RunDirectory
{
    private const int LockAttempts = 5;

    /// <summary>
    /// Takes <c>run.lock</c> for this process (its pid, plus a start token that tells a reused pid apart).
    /// Throws <see cref="EvolverException"/> "run 'x' is already running (pid N)" when a live process holds
    /// it, this process included; a lock left by a dead process (crash, kill -9) is taken over. Disposing
    /// the result removes the lock.
    /// </summary>
    public IDisposable AcquireLock()
    {
        Directory.CreateDirectory(Root);
        var pid = Environment.ProcessId;
        var content = FormatLock(pid, ProcessLiveness.StartToken(pid));
        for (var attempt = 0; attempt < LockAttempts; attempt++)
        {
            if (TryCreateLock(content))
            {
                return new RunLock(LockPath, content);
            }
            var seen = ReadText(LockPath);
            if (seen is null)
            {
                continue; // released meanwhile: try again
            }
            if (ParseLock(seen) is (var holder, var token) && ProcessLiveness.IsAlive(holder, token))
            {
                throw new EvolverException($"run '{RunId}' is already running (pid {holder.ToString(CultureInfo.InvariantCulture)})");
            }
            // Stale (dead pid or unreadable): remove it unless someone replaced it since we read it.
            if (ReadText(LockPath) == seen)
            {
                File.Delete(LockPath);
            }
        }
        throw new EvolverException($"run '{RunId}': could not take {LockPath} (other processes keep replacing it)");
    }

    /// <summary>The pid recorded in <c>run.lock</c>, or null when there is no readable lock.</summary>
    public int? LockHolder() => ReadText(LockPath) is { } text && ParseLock(text) is (var pid, _) ? pid : null;

    /// <summary>True when a live process holds <c>run.lock</c>.</summary>
    public bool IsLocked() => ReadText(LockPath) is { } text && ParseLock(text) is (var pid, var token) && ProcessLiveness.IsAlive(pid, token);

    /// <summary>Creates the lock file whole (temp file, then a rename that fails when the lock exists).</summary>
    private bool TryCreateLock(string content)
    {
        var temp = Path.Combine(Root, $".{LockFileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, LockPath, overwrite: false);
            }
            catch (IOException) when (File.Exists(LockPath))
            {
                return false;
            }
            StoragePaths.SyncDirectory(Root);
            return true;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static string FormatLock(int pid, string? startToken) =>
        startToken is null
            ? $"{pid.ToString(CultureInfo.InvariantCulture)}\n"
            : $"{pid.ToString(CultureInfo.InvariantCulture)}\nstart={startToken}\n";

    /// <summary>The pid (first line) and optional start token (<c>start=</c> line) of a lock file.</summary>
    private static (int Pid, string? Token)? ParseLock(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || !int.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }
        var token = lines.Skip(1).FirstOrDefault(l => l.StartsWith("start=", StringComparison.Ordinal))?["start=".Length..];
        return (pid, token);
    }

    /// <summary>The held lock; disposing it removes run.lock if it is still ours.</summary>
    private sealed class RunLock(string path, string content) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }
            if (ReadText(path) == content)
            {
                File.Delete(path);
            }
        }
    }
}
