using System.Net;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Files;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Cluster;

/// <summary>
/// A worker without the run directory (docs/architecture.md §4): it gets the run's fingerprint and the population
/// snapshots from the coordinator's file server, by SHA-256, verified, including snapshots written after it started;
/// bytes that differ from their hash are refused in one line and never loaded.
/// </summary>
public sealed class SnapshotMirrorTests : IAsyncDisposable
{
    private const string Token = "mirror-token-0123456789";

    private readonly TempDir _dir = new();
    private readonly List<string> _said = [];
    private readonly HttpClient _http = new();
    private readonly PopulationSnapshots _coordinator;
    private FileServer? _server;

    public SnapshotMirrorTests()
    {
        _coordinator = new PopulationSnapshots(_dir.File("run/snapshots"));
        File.WriteAllText(_dir.File("run/run.json"), "{\"config_hash\": \"x\", \"settings\": {}, \"members\": []}\n");
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        _http.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Snapshots_written_while_the_run_runs_are_fetched_verified_and_the_dropped_ones_go()
    {
        Snapshot(5, ("o-a", 1f), ("o-b", 2f));
        var (node, fetcher) = await NodeAsync();

        using (var a = node.TryLoad("o-a", CPU))
        {
            Assert.NotNull(a);
            Assert.Equal(WeightHash.Of(Weights(1f)), WeightHash.Of(a));
        }
        Assert.Equal(File.ReadAllText(_dir.File("run/run.json")), await fetcher.FingerprintAsync(TestContext.Current.CancellationToken));

        // Written after the node's first listing: found once the listing is renewed (at most a second later).
        Snapshot(10, ("o-a", 1f), ("o-c", 3f));
        Snapshot(15, ("o-c", 3f));
        Snapshot(20, ("o-c", 3f), ("o-d", 4f));
        await Task.Delay(TimeSpan.FromSeconds(1.2), TestContext.Current.CancellationToken);
        using (var d = node.TryLoad("o-d", CPU))
        {
            Assert.NotNull(d);
            Assert.Equal(WeightHash.Of(Weights(4f)), WeightHash.Of(d));
        }

        // The coordinator keeps snapshots 15 and 20 now: the node's copy of snapshot 5 and the file of o-a are gone.
        var local = Path.Combine(_dir.Path, "node", "snapshots");
        Assert.Equal([PopulationSnapshots.ManifestFileName(20)], Directory.GetFiles(local, "snapshot-*.json").Select(Path.GetFileName));
        Assert.False(File.Exists(Path.Combine(local, "o-a.safetensors")));
        Assert.Empty(_said);
    }

    [Fact]
    public async Task A_tampered_snapshot_file_is_refused_in_one_line_and_never_loaded()
    {
        Snapshot(5, ("o-a", 1f), ("o-b", 2f));
        var (node, _) = await NodeAsync();
        using (var a = node.TryLoad("o-a", CPU))
        {
            Assert.NotNull(a); // the listing measured the SHA-256 of both files
        }
        var file = Path.Combine(_coordinator.Directory, "o-b.safetensors");
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 0x5a;
        File.WriteAllBytes(file, bytes);

        Assert.Null(node.TryLoad("o-b", CPU));
        Assert.Null(node.TryLoad("o-b", CPU)); // not fetched again, not said again

        var line = Assert.Single(_said);
        Assert.DoesNotContain('\n', line);
        Assert.Contains("o-b.safetensors: refused: sha256 ", line, StringComparison.Ordinal);
        Assert.Contains("rebuilt from recipes instead", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "node", "snapshots", "o-b.safetensors")));
    }

    private static WeightSet Weights(float seed) => WeightSet.Adopt([("layer.weight", tensor(new[] { seed, seed + 1, seed + 2, seed + 3 }))]);

    /// <summary>A snapshot after <paramref name="decided"/> decisions, as the coordinator writes them (superseded ones collected).</summary>
    private void Snapshot(long decided, params (string Id, float Seed)[] members)
    {
        foreach (var (id, seed) in members)
        {
            using var weights = Weights(seed);
            _coordinator.Spill(id, weights, decided);
        }
        var ids = members.Select(m => m.Id).ToList();
        _coordinator.Write(decided, decided, ids, ids, _ => throw new InvalidOperationException("spilled already"));
    }

    /// <summary>The coordinator's file server and a node's snapshots that fetch from it.</summary>
    private async Task<(PopulationSnapshots Node, WeightFetcher Fetcher)> NodeAsync()
    {
        var catalog = new FileCatalog([]) { FingerprintPath = _dir.File("run/run.json"), SnapshotsDirectory = _coordinator.Directory };
        _server = await FileServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), catalog, Token);
        var fetcher = new WeightFetcher(_http, _server.Url, Token, _dir.File("cache"));
        var mirror = new SnapshotMirror(fetcher, _dir.File("node/snapshots"), line =>
        {
            lock (_said)
            {
                _said.Add(line);
            }
        });
        return (new PopulationSnapshots(mirror.Directory) { WrittenElsewhere = true, FetchMissing = mirror.Fetch }, fetcher);
    }
}
