using System.Diagnostics;
using System.Globalization;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// Whether a process id still names a live process. On Linux it reads <c>/proc/&lt;pid&gt;/stat</c>: a
/// zombie (killed, not yet reaped) counts as dead, and the start time since boot (field 22) tells a
/// reused pid from the process that wrote a lock. Elsewhere it asks <see cref="Process"/>.
/// </summary>
public static class ProcessLiveness
{
    /// <summary>
    /// True when <paramref name="pid"/> is a live process and, when <paramref name="startToken"/> is given
    /// (see <see cref="StartToken"/>), the same process that had that token.
    /// </summary>
    public static bool IsAlive(int pid, string? startToken = null)
    {
        if (pid <= 0)
        {
            return false;
        }
        if (OperatingSystem.IsLinux())
        {
            var stat = ReadStat(pid, out var unreadable);
            if (unreadable)
            {
                return true; // /proc/<pid> exists but cannot be read: assume alive (never take a live run's lock)
            }
            if (stat is null || stat.Value.State is 'Z' or 'X')
            {
                return false;
            }
            return startToken is null || string.Equals(startToken, stat.Value.Start, StringComparison.Ordinal);
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A token that tells this process from a later one given the same pid (null where unknown).</summary>
    public static string? StartToken(int pid) =>
        OperatingSystem.IsLinux() ? ReadStat(pid, out _)?.Start : null;

    private static (char State, string Start)? ReadStat(int pid, out bool unreadable)
    {
        unreadable = false;
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            unreadable = Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
        var close = text.LastIndexOf(')');
        var fields = close < 0 ? [] : text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        if (fields.Length < 20 || fields[0].Length != 1)
        {
            unreadable = true;
            return null;
        }
        return (fields[0][0], fields[19]);
    }
}
