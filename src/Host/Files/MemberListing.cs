using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace EvolverActors.Host.Files;

/// <summary>
/// The files of one starting member as the file server lists them (docs/architecture.md §4): the member's content hash
/// (the SHA-256 of its checkpoint bytes, as <c>run.json</c> records it) and, per file, the name it takes in a checkpoint
/// directory, its own SHA-256 (what the file is fetched by and verified against) and its size.
/// </summary>
internal sealed record MemberListing(
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("files")] IReadOnlyList<MemberFile> Files);

/// <summary>One file of a member: <c>model.safetensors</c>, or a shard or the index of a sharded checkpoint.</summary>
internal sealed record MemberFile(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("bytes")] long Bytes);

/// <summary>What the side channel accepts as a content hash and as a file name (nothing path-like gets through).</summary>
internal static partial class ContentAddress
{
    /// <summary>A SHA-256 as lower-case hex: the only key the file server looks files up by.</summary>
    public static bool IsSha256(string? text) => text is not null && Sha256Regex().IsMatch(text);

    /// <summary>A plain file name for a member's directory in the cache (no separators, no <c>..</c>).</summary>
    public static bool IsFileName(string? name) => name is not null and not "." and not ".." && FileNameRegex().IsMatch(name);

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Regex();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,200}$")]
    private static partial Regex FileNameRegex();
}
