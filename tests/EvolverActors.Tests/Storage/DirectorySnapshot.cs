using System.Globalization;
using System.Security.Cryptography;

namespace EvolverActors.Tests.Storage;

/// <summary>Every entry under a directory with its size, content hash and modification time: equal snapshots mean nothing was written.</summary>
internal static class DirectorySnapshot
{
    public static IReadOnlyList<string> Take(string root)
    {
        var entries = new List<string>
        {
            $". {Directory.GetLastWriteTimeUtc(root).Ticks.ToString(CultureInfo.InvariantCulture)}",
        };
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(root, path);
            var mtime = File.GetLastWriteTimeUtc(path).Ticks.ToString(CultureInfo.InvariantCulture);
            entries.Add(Directory.Exists(path)
                ? $"{relative}/ {mtime}"
                : $"{relative} {new FileInfo(path).Length.ToString(CultureInfo.InvariantCulture)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))} {mtime}");
        }
        entries.Sort(StringComparer.Ordinal);
        return entries;
    }
}
