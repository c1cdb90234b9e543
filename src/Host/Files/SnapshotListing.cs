using System.Text.Json.Serialization;
using EvolverActors.Actors.Storage;

namespace EvolverActors.Host.Files;

/// <summary>
/// The population snapshots the coordinator keeps, as its file server lists them (<c>GET /v1/snapshots</c>, oldest first;
/// docs/architecture.md §4): each snapshot's manifest as the coordinator wrote it, and for every weight file it keeps the
/// SHA-256 of its bytes (what a node fetches it by and verifies it against) and its size.
/// </summary>
internal sealed record SnapshotListing([property: JsonPropertyName("snapshots")] IReadOnlyList<SnapshotEntry> Snapshots);

/// <summary>One snapshot: its manifest and its files.</summary>
internal sealed record SnapshotEntry(
    [property: JsonPropertyName("manifest")] SnapshotManifest Manifest,
    [property: JsonPropertyName("files")] IReadOnlyList<SnapshotFile> Files);

/// <summary>The weight file of <paramref name="Id"/> in a snapshot: <c>&lt;id&gt;.safetensors</c>.</summary>
internal sealed record SnapshotFile(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("bytes")] long Bytes);
