using System.Security.Cryptography;

namespace EvolverActors.Host.Run;

/// <summary>A random bearer token kept in a file only its owner can read (0600), made once and kept across resumes.</summary>
internal static class OwnerOnlyToken
{
    /// <summary>
    /// The token in <paramref name="path"/>, made (atomically, never readable by others) on first use; a
    /// <paramref name="given"/> token replaces what the file holds.
    /// </summary>
    public static string GetOrCreate(string path, string? given = null)
    {
        var kept = File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        if (kept is not null && (given is null || given == kept))
        {
            return kept;
        }
        var token = given ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // never readable by others, not even briefly
        }
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(token + "\n");
        }
        File.Move(temp, path, overwrite: true);
        return token;
    }
}
