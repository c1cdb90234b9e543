using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Files;

/// <summary>
/// A node's fetching cache of starting members (docs/architecture.md §4): downloads a member's files by content hash
/// from the coordinator's <see cref="FileServer"/> into <c>&lt;cache&gt;/members/&lt;sha256&gt;/</c>, resuming a partial
/// download with a range request, and keeps a file only once its SHA-256 is the one asked for (written as
/// <c>.partial</c>, verified, then renamed); a sharded member is verified whole as well. Bytes that do not match are
/// refused with one line and never loaded. A member already in the cache is used without asking the server.
/// </summary>
internal sealed partial class WeightFetcher(HttpClient http, string server, string token, string cacheDirectory)
{
    /// <summary>Written last in a member's directory: its listing, once every file in it is verified.</summary>
    public const string CompleteMarker = "member.json";

    private const string PartialSuffix = ".partial";

    /// <summary>How long to wait for another process fetching the same file into the same cache.</summary>
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(10);

    public string Server { get; } = server.TrimEnd('/');

    public string CacheDirectory { get; } = Path.GetFullPath(cacheDirectory);

    /// <summary>Where member <paramref name="sha256"/> is (or would be) kept: a checkpoint directory.</summary>
    public string MemberDirectory(string sha256) => MemberDirectory(CacheDirectory, sha256);

    /// <summary>The checkpoint directory of member <paramref name="sha256"/> in the cache at <paramref name="cacheDirectory"/>.</summary>
    public static string MemberDirectory(string cacheDirectory, string sha256) => Path.Combine(cacheDirectory, "members", sha256);

    /// <summary>The directory of member <paramref name="sha256"/> when the cache holds it complete (no server needed), else null.</summary>
    public static string? Cached(string cacheDirectory, string sha256)
    {
        var directory = MemberDirectory(Path.GetFullPath(cacheDirectory), sha256);
        return ContentAddress.IsSha256(sha256) && CachedListing(directory) is not null ? directory : null;
    }

    /// <summary>The cached checkpoint directory of member <paramref name="sha256"/>, fetched first unless complete; and the bytes downloaded.</summary>
    public async Task<(string Directory, long Downloaded)> FetchMemberAsync(string sha256, CancellationToken cancel = default)
    {
        if (!ContentAddress.IsSha256(sha256))
        {
            throw new EvolverException($"'{sha256}' is not a member's content hash (64 lower-case hex digits)");
        }
        if (Cached(CacheDirectory, sha256) is { } cached)
        {
            return (cached, 0);
        }
        var directory = MemberDirectory(sha256);
        var listing = await ListingAsync(sha256, cancel).ConfigureAwait(false);
        Directory.CreateDirectory(directory);
        long downloaded = 0;
        foreach (var file in listing.Files)
        {
            downloaded += await FetchFileAsync(file.Sha256, file.Bytes, Path.Combine(directory, file.Name), cancel).ConfigureAwait(false);
        }
        if (listing.Files.Count > 1 && RunFingerprint.Sha256OfCheckpoint(directory) is var whole && whole != sha256)
        {
            throw new EvolverException($"{directory}: refused: the checkpoint's sha256 is {whole}, expected {sha256} (fetched from {Server})");
        }
        StoragePaths.WriteTextAtomically(Path.Combine(directory, CompleteMarker), JsonSerializer.Serialize(listing), durable: false);
        return (directory, downloaded);
    }

    /// <summary>
    /// Fetches the file with SHA-256 <paramref name="sha256"/> (<paramref name="bytes"/> long) to <paramref name="destination"/>
    /// unless it is there already; returns the bytes downloaded. A <c>.partial</c> file left by an interrupted fetch is resumed.
    /// </summary>
    public async Task<long> FetchFileAsync(string sha256, long bytes, string destination, CancellationToken cancel = default)
    {
        if (File.Exists(destination))
        {
            return 0; // renamed into place only once verified
        }
        var partial = destination + PartialSuffix;
        await using var stream = await OpenExclusiveAsync(partial, cancel).ConfigureAwait(false);
        if (File.Exists(destination))
        {
            return 0; // another process fetched it meanwhile
        }
        var have = stream.Length > bytes ? 0 : stream.Length;
        stream.SetLength(have);
        long downloaded = 0;
        if (have < bytes)
        {
            using var request = Request(FileServer.FilesRoute + sha256);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
            }
            using var response = await SendAsync(request, cancel).ConfigureAwait(false);
            // 206: the rest follows the bytes kept; 200: the server sent the whole file, so start over.
            stream.Position = response.StatusCode == HttpStatusCode.PartialContent ? have : 0;
            stream.SetLength(stream.Position);
            await response.Content.CopyToAsync(stream, cancel).ConfigureAwait(false);
            downloaded = stream.Length - have;
        }
        await stream.FlushAsync(cancel).ConfigureAwait(false);
        stream.Position = 0;
        var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancel).ConfigureAwait(false));
        if (actual != sha256)
        {
            stream.SetLength(0); // never resumed from: the next fetch starts over
            throw new EvolverException($"{destination}: refused: sha256 {actual} differs from the expected {sha256} (fetched from {Server})");
        }
        File.Move(partial, destination);
        return downloaded;
    }

    private async Task<MemberListing> ListingAsync(string sha256, CancellationToken cancel)
    {
        using var request = Request(FileServer.MembersRoute + sha256);
        using var response = await SendAsync(request, cancel).ConfigureAwait(false);
        MemberListing? listing;
        try
        {
            listing = await response.Content.ReadFromJsonAsync<MemberListing>(cancel).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new EvolverException($"{Server}: member {sha256}'s listing is not valid JSON ({e.Message.Split('\n')[0]})");
        }
        if (listing is null || listing.Sha256 != sha256 || listing.Files is not { Count: > 0 }
            || listing.Files.Any(f => !ContentAddress.IsFileName(f.Name) || f.Name == CompleteMarker || !ContentAddress.IsSha256(f.Sha256) || f.Bytes < 0))
        {
            throw new EvolverException($"{Server}: member {sha256}'s listing is not a list of plain file names with content hashes: refused");
        }
        return listing;
    }

    /// <summary>A complete member's listing when every file it names is in <paramref name="directory"/>, else null.</summary>
    private static MemberListing? CachedListing(string directory)
    {
        var marker = Path.Combine(directory, CompleteMarker);
        if (!File.Exists(marker))
        {
            return null;
        }
        try
        {
            var listing = JsonSerializer.Deserialize<MemberListing>(File.ReadAllText(marker));
            return listing?.Files.All(f => ContentAddress.IsFileName(f.Name) && File.Exists(Path.Combine(directory, f.Name))) == true ? listing : null;
        }
        catch (JsonException)
        {
            return null; // fetched again
        }
    }

    private HttpRequestMessage Request(string route)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Server + route);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new EvolverException($"cannot reach the file server at {Server} ({e.Message.Split('\n')[0]})");
        }
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        var status = (int)response.StatusCode;
        response.Dispose();
        throw new EvolverException(status switch
        {
            401 => $"{request.RequestUri}: the file server refused the token (401): give the token in the coordinator's run directory ({FileToken.FileName}) in {FileToken.EnvironmentVariable}",
            404 => $"{request.RequestUri}: the file server has no such content (404): is it this run's coordinator?",
            _ => $"{request.RequestUri}: the file server answered {status}",
        });
    }

    /// <summary>Opens <paramref name="path"/> for this process alone, waiting while another process holds it.</summary>
    private static async Task<FileStream> OpenExclusiveAsync(string path, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16, useAsync: true);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancel).ConfigureAwait(false);
            }
        }
    }
}
