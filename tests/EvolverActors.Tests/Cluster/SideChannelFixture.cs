using System.Net;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Bench;
using EvolverActors.Host.Files;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;

namespace EvolverActors.Tests.Cluster;

/// <summary>
/// A coordinator's file server on a loopback port the kernel picks, serving two starting members: a single
/// <c>model.safetensors</c> and a checkpoint sharded in three; and an HTTP client that records what it asked for.
/// </summary>
internal sealed class SideChannelFixture : IAsyncDisposable
{
    public const string Token = "test-token-0123456789";

    private readonly TempDir _dir;

    private SideChannelFixture(TempDir dir, FileServer server, string single, string sharded)
    {
        _dir = dir;
        Server = server;
        Single = single;
        Sharded = sharded;
        SingleSha = RunFingerprint.Sha256OfCheckpoint(single);
        ShardedSha = RunFingerprint.Sha256OfCheckpoint(sharded);
        Requests = new RecordingHandler();
        Http = new HttpClient(Requests);
    }

    public FileServer Server { get; }
    public string Single { get; }
    public string Sharded { get; }
    public string SingleSha { get; }
    public string ShardedSha { get; }
    public RecordingHandler Requests { get; }
    public HttpClient Http { get; }

    /// <summary>A directory of the fixture's for a node's cache.</summary>
    public string Cache => _dir.File("cache");

    public string SingleFile => Path.Combine(Single, Checkpoint.SingleFileName);

    public static async Task<SideChannelFixture> StartAsync()
    {
        var dir = new TempDir();
        var single = Path.Combine(dir.Path, "single");
        var sharded = Path.Combine(dir.Path, "sharded");
        using (var weights = OpsBenchmark.SyntheticModel(6_000, seed: 7))
        {
            Checkpoint.Save(single, weights);
        }
        using (var weights = WeightSet.Adopt([.. Enumerable.Range(0, 3).Select(i => ($"layers.{i}.weight", TorchSharp.torch.randn(2_000)))]))
        {
            Checkpoint.Save(sharded, weights, maxShardBytes: 9_000);
        }
        var catalog = new FileCatalog([(RunFingerprint.Sha256OfCheckpoint(single), single), (RunFingerprint.Sha256OfCheckpoint(sharded), sharded)]);
        var server = await FileServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), catalog, Token);
        return new SideChannelFixture(dir, server, single, sharded);
    }

    public WeightFetcher Fetcher(string token = Token) => new(Http, Server.Url, token, Cache);

    public HttpRequestMessage Get(string route, string? token = Token, long? from = null, long? to = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Server.Url + route);
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
        if (from is not null)
        {
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(from, to);
        }
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>Passes requests on, keeping each one's path and range header.</summary>
    internal sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly List<string> _seen = [];

        public IReadOnlyList<string> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (_seen)
            {
                _seen.Add($"{request.RequestUri!.AbsolutePath} {request.Headers.Range}".TrimEnd());
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
