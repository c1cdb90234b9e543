using System.Net.Http.Json;
using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Files;

/// <summary>What a node without the run directory asks the coordinator's file server for besides members (docs/architecture.md §4).</summary>
internal sealed partial class WeightFetcher
{
    /// <summary>The run's fingerprint, <c>run.json</c> as the coordinator recorded it.</summary>
    public async Task<string> FingerprintAsync(CancellationToken cancel = default)
    {
        using var request = Request(FileServer.RunRoute);
        using var response = await SendAsync(request, cancel).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>The snapshots the coordinator keeps now; a listing that names anything but weight ids and content hashes is refused.</summary>
    public async Task<SnapshotListing> SnapshotsAsync(CancellationToken cancel = default)
    {
        using var request = Request(FileServer.SnapshotsRoute);
        using var response = await SendAsync(request, cancel).ConfigureAwait(false);
        SnapshotListing? listing;
        try
        {
            listing = await response.Content.ReadFromJsonAsync<SnapshotListing>(cancel).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new EvolverException($"{Server}{FileServer.SnapshotsRoute}: the snapshot listing is not valid JSON ({e.Message.Split('\n')[0]})");
        }
        if (listing?.Snapshots is null || listing.Snapshots.Any(s => s.Manifest?.Hashes is null || s.Manifest.Members is null || s.Files is null
            || s.Files.Any(f => !StoragePaths.IsValidId(f.Id) || !ContentAddress.IsSha256(f.Sha256) || f.Bytes < 0)))
        {
            throw new EvolverException($"{Server}{FileServer.SnapshotsRoute}: the snapshot listing is not a list of weight ids with content hashes: refused");
        }
        return listing;
    }
}
