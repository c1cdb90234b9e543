using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// Names and durable writes shared by the weight store and run directories: ids that are safe file
/// names, and files replaced atomically (temp file in the same directory, fsync, rename, directory fsync).
/// </summary>
public static partial class StoragePaths
{
    /// <summary>The characters and length allowed in a weight id or run id.</summary>
    public const string IdPattern = "^[A-Za-z0-9._-]{1,100}$";

    /// <summary>True when <paramref name="id"/> is a valid weight or run id (and not "." or "..").</summary>
    public static bool IsValidId(string? id) => id is not null and not "." and not ".." && IdRegex().IsMatch(id);

    /// <summary>Throws an <see cref="EvolverException"/> naming the id when it is not valid.</summary>
    public static string RequireValidId(string? id, string what)
    {
        if (!IsValidId(id))
        {
            throw new EvolverException(
                $"{what} '{id}' is not valid: use 1 to 100 letters, digits, '.', '_' or '-'");
        }
        return id!;
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="text"/> (UTF-8): a crash leaves the old file or
    /// the new one, never half a file. <paramref name="durable"/> fsyncs the file and its directory.
    /// </summary>
    public static void WriteTextAtomically(string path, string text, bool durable = true)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: durable);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        if (durable)
        {
            SyncDirectory(dir);
        }
    }

    /// <summary>
    /// Deletes the temp files that interrupted atomic writes left anywhere under <paramref name="root"/> (every
    /// <c>.*.tmp</c>: weight files, status, lock, and any folder added later) and returns how many files and bytes went.
    /// Only a process that holds the run lock may call it, before it writes anything: no write can be under way then.
    /// Symbolic links are neither followed nor deleted.
    /// </summary>
    public static (int Files, long Bytes) DeleteTempFiles(string root)
    {
        if (!Directory.Exists(root))
        {
            return (0, 0);
        }
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.ReparsePoint, // names starting with '.' count as hidden on Unix: keep them
            IgnoreInaccessible = true,
            MatchType = MatchType.Simple,
        };
        var (files, bytes) = (0, 0L);
        foreach (var path in Directory.EnumerateFiles(root, ".*.tmp", options))
        {
            var info = new FileInfo(path);
            var length = info.Exists ? info.Length : 0;
            info.Delete();
            files++;
            bytes += length;
        }
        return (files, bytes);
    }

    /// <summary>
    /// Makes the renames and creations in <paramref name="dir"/> durable (fsync of the directory itself).
    /// A no-op where the platform has no such call; best effort where the filesystem refuses it.
    /// </summary>
    public static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }
        var fd = NativeOpen(dir, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return;
        }
        try
        {
            _ = NativeFsync(fd);
        }
        finally
        {
            _ = NativeClose(fd);
        }
    }

    [GeneratedRegex(IdPattern, RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int NativeOpen(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int NativeFsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int NativeClose(int fd);
}
