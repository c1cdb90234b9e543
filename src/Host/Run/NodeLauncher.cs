using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Cluster;
using EvolverActors.Actors.Hosting;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Files;
using EvolverActors.Host.Http;
using EvolverActors.Tensors;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>What `evolver node` was asked: the run's config, which run, and the coordinator to join (null: from the run directory).</summary>
internal sealed record NodeRequest(string ConfigPath, string RunId, string RunsRoot, string? Join, string? Name, TextWriter Output, bool Standby = false)
{
    /// <summary>The coordinator's file server (null: the URL in the run directory's cluster.json).</summary>
    public string? FetchFrom { get; init; }

    /// <summary>Where fetched starting members are kept, under <c>members/</c> (null: <see cref="DefaultCache"/>).</summary>
    public string? Cache { get; init; }

    /// <summary>A worker's own directory for a run whose directory it does not read (null: <c>&lt;cache&gt;/nodes/&lt;run-id&gt;</c>).</summary>
    public string? NodeDirectory { get; init; }

    /// <summary>A standby coordinator's file server, started when it takes the run over (null: 127.0.0.1, any free port).</summary>
    public System.Net.IPEndPoint? FilesListen { get; init; }

    /// <summary><c>$EVOLVER_DATA</c>, else <c>~/.cache/evolver</c> (the asset cache's root).</summary>
    public static string DefaultCache => Tensors.Assets.AssetStore.DefaultRoot();
}

/// <summary>
/// A worker node (docs/architecture.md §4): checks that its population is the run's (content hashes), joins the
/// coordinator's cluster and offers an evaluator per device of its config. Where it shares the run directory it writes
/// nothing there but its evaluators' log; otherwise it writes nothing there at all, and gets the run's fingerprint and
/// snapshots from the coordinator's file server into its own node directory. It rebuilds the weights it scores from the
/// run's checkpoints, snapshots and recipes, and exits when the coordinator leaves (the run ended or stopped), when it
/// is removed from the cluster, or on SIGTERM.
/// </summary>
internal static class NodeLauncher
{
    /// <summary>How long a node tries to join its coordinator before it gives up (one line, exit status 2).</summary>
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Fetches stream files of any size: no overall time-out (a stalled connection fails on its own).</summary>
    private static readonly Lazy<HttpClient> Http = new(() => new HttpClient { Timeout = Timeout.InfiniteTimeSpan });

    public static async Task<int> RunAsync(NodeRequest request)
    {
        var config = RunConfiguration.Load(request.ConfigPath);
        var run = RunDirectory.Open(request.RunsRoot, request.RunId);
        var name = request.Name ?? $"{Environment.MachineName}-{Environment.ProcessId}";
        void Say(string line) => request.Output.WriteLine($"[{request.RunId}] node {name}: {line}");
        // A worker without the run directory here, or pointed at the coordinator's file server, works from a directory of
        // its own and gets the run's fingerprint and snapshots from that server (docs/architecture.md §4). A standby
        // without it keeps that copy as its run directory under --runs, where it takes the run over.
        var sources = request.Standby
            ? StandbyReplica.IsFor(run) ? await StandbyReplicaAsync(request, config, run, name, Say).ConfigureAwait(false) : FromRunDirectory(request, config, run, name)
            : request.FetchFrom is not null || !run.Exists
            ? await FromFileServerAsync(request, config, run, name, Say).ConfigureAwait(false)
            : FromRunDirectory(request, config, run, name);
        var (recorded, seed) = (sources.Recorded, sources.Seed);
        using var secret = ClusterSecret.Load(sources.SecretPath);

        await TorchPreload.Loaded.ConfigureAwait(false);
        // Members this host does not have come from the coordinator by content hash, verified (docs/architecture.md §4).
        config = await NodeMembers.LocalizeAsync(config, recorded, request.Cache ?? NodeRequest.DefaultCache, sources.Fetcher, Say).ConfigureAwait(false);
        var resolved = ResolvedRun.Resolve(config);
        var fingerprint = resolved.Fingerprint();
        if (recorded.FirstPopulationDifference(fingerprint) is { } difference)
        {
            throw new EvolverException($"{config.Source}: the population is not run '{request.RunId}''s ({difference})");
        }
        var log = new LineLog(sources.LogPath);
        if (request.Standby)
        {
            return await StandbyAsync(request, config, resolved, sources, run, name, log, secret).ConfigureAwait(false);
        }
        var weights = sources.OpenWeights(resolved.Population, config.Settings);
        using var metrics = new RunMetrics(config.Settings.Mode.ToString().ToLowerInvariant()) { ResidentBytes = () => weights.Resident.ResidentBytes };
        var runtime = new EvolverRuntime(config.Settings, request.RunId, weights.Resident, resolved.Fitness(log.Write, weights), weights.InitialIds)
        {
            Book = weights.Book,
            Snapshots = weights.Snapshots,
            WorkerNode = true,
            Metrics = metrics,
        };

        using var host = QuietLifetime.BuildHost(EvolverHosting.SystemName, akka => akka.AddEvolverWorker(runtime, seed, name,
            Say, secret));
        await host.StartAsync().ConfigureAwait(false);
        var system = host.Services.GetRequiredService<ActorSystem>();
        var cluster = Cluster.Get(system);
        await JoinOrGiveUpAsync(host, seed, name, secret, config.Settings.Cluster.Bootstrap).ConfigureAwait(false);
        var ended = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(() => new CoordinatorWatch(ended)), "coordinator-watch");
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; ended.TrySetResult("stopped by SIGTERM"); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; ended.TrySetResult("stopped by Ctrl-C"); });
        request.Output.WriteLine($"[{request.RunId}] node {name} at {cluster.SelfAddress} joining {ClusterEntry.Describe(seed, config.Settings.Cluster.Bootstrap)} with {config.Settings.Devices.Count} evaluators ({string.Join(", ", config.Settings.Devices)})");

        // Its own page and /metrics (its evaluators; the run's totals are the coordinator's to export), read-only.
        var steward = host.Services.GetRequiredService<Akka.Hosting.ActorRegistry>().Get<StewardProxy>();
        var http = RunHttp.StartForWorkerSoon(runtime, request.RunsRoot, steward, metrics, Say);
        while (!ended.Task.IsCompleted)
        {
            await Task.WhenAny(ended.Task, Task.Delay(1000)).ConfigureAwait(false);
            try
            {
                RunHttp.Observe(http, await steward.Ask<Actors.Steward.RunProgress>(Actors.Steward.GetRunProgress.Instance, TimeSpan.FromSeconds(2)).ConfigureAwait(false));
            }
            catch (Exception e) when (e is TimeoutException or AskTimeoutException or TaskCanceledException)
            {
                // The steward is busy or moving; the next tick reads it.
            }
        }
        var why = await ended.Task.ConfigureAwait(false);
        await RunHttp.StopAsync(http).ConfigureAwait(false);
        var fetched = sources.Mirror is { } mirror ? $" ({mirror.Fetched} population snapshot files fetched)" : "";
        request.Output.WriteLine($"[{request.RunId}] node {name}: {why}; its evaluators scored {runtime.Scored} offspring{fetched}");
        await host.StopAsync().ConfigureAwait(false); // leaves the cluster: the steward and the breeder see its evaluators go
        return 0;
    }

    /// <summary>
    /// A standby coordinator: the steward, members and breeder as on `evolver run`, joined to the running cluster; it hosts
    /// the singletons only once the first coordinator is lost, and recovers the run from the PostgreSQL journal then.
    /// </summary>
    private static async Task<int> StandbyAsync(NodeRequest request, RunConfiguration config, ResolvedRun resolved, NodeSources sources,
        RunDirectory run, string name, LineLog log, ClusterSecret secret)
    {
        config.Settings.Cluster.Bootstrap?.RequireFixedManagementPort("a standby coordinator");
        RequireSharedJournal(request, run);
        var weights = sources.OpenWeights(resolved.Population, config.Settings);
        var runtime = new EvolverRuntime(config.Settings, request.RunId, weights.Resident, resolved.Fitness(log.Write, weights), weights.InitialIds, run)
        {
            Book = weights.Book,
            Snapshots = weights.Snapshots,
            WorkerNode = true, // its evaluators also score offspring the other coordinator's breeder bred
        };
        // Once it holds the run, it hands the starting members and snapshots to nodes as the coordinator did (docs/architecture.md §4).
        var files = new FileCatalog(sources.Recorded.Members.Select(m => (m.Sha256, resolved.Population.Members[m.Slot])))
        {
            FingerprintPath = run.FingerprintPath,
            SnapshotsDirectory = weights.Snapshots.Directory,
        };
        request.Output.WriteLine($"[{request.RunId}] standby coordinator {name} joining {ClusterEntry.Describe(sources.Seed, config.Settings.Cluster.Bootstrap)}");
        return await RunLauncher.RunNodeAsync(runtime, run, secret, request.Output, (sources.Seed, name), files,
            request.FilesListen ?? new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)).ConfigureAwait(false);
    }

    /// <summary>A standby recovers the run from the journal the coordinator writes: PostgreSQL, never a file of another machine.</summary>
    private static void RequireSharedJournal(NodeRequest request, RunDirectory run)
    {
        if (run.Journal.Provider != JournalProvider.PostgreSql)
        {
            throw new EvolverException($"run '{request.RunId}': a standby coordinator needs the journal in PostgreSQL (persistence.postgresql); "
                + $"{run.JournalPath} is a file of the first coordinator's machine");
        }
    }

    /// <summary>
    /// A standby on a host without the run directory (docs/architecture.md §4): it makes its own copy under --runs from
    /// the coordinator's file server, as a worker does in its node directory (run.json and population snapshots,
    /// verified; starting members by content hash), records the PostgreSQL journal there, and marks the copy, so that a
    /// restarted standby fetches into it again. When the coordinator is lost, this copy becomes the run directory.
    /// </summary>
    private static async Task<NodeSources> StandbyReplicaAsync(NodeRequest request, RunConfiguration config, RunDirectory run, string name, Action<string> say)
    {
        if (request.NodeDirectory is not null)
        {
            throw new EvolverException($"--node-dir: not with --coordinator (a standby keeps its copy of the run in {run.Root}, where it takes the run over)");
        }
        var database = config.Settings.JournalDatabase is { Provider: JournalProvider.PostgreSql } configured ? configured
            : throw new EvolverException($"{config.Source}: a standby coordinator needs the journal in PostgreSQL (persistence.postgresql): "
                + $"run '{request.RunId}''s directory is not on this host, so its journal can only be a database both hosts reach");
        if (request.FetchFrom is null)
        {
            throw new EvolverException($"run '{request.RunId}' is not under {run.RunsRoot} on this host: give --fetch-from URL (the coordinator's file server) "
                + "so that this standby makes its own copy there, or --runs the shared run directory");
        }
        var sources = await FromFileServerAsync(request with { NodeDirectory = run.Root }, config, run, name, say).ConfigureAwait(false);
        run.UseJournal(database);
        StandbyReplica.Mark(run, request.FetchFrom);
        return sources;
    }

    /// <summary>Where a worker's run comes from: its fingerprint, coordinator, secret, members, log and weights.</summary>
    private sealed record NodeSources(RunFingerprint Recorded, string? Seed, string SecretPath, Func<WeightFetcher> Fetcher, string LogPath,
        Func<RunPopulation, RunSettings, RunWeights> OpenWeights, SnapshotMirror? Mirror = null);

    /// <summary>The run directory is here (shared with the coordinator): everything is read there, as on the coordinator's host.</summary>
    private static NodeSources FromRunDirectory(NodeRequest request, RunConfiguration config, RunDirectory run, string name)
    {
        var recorded = run.ReadFingerprint()
            ?? throw new EvolverException($"run '{request.RunId}' does not exist under {run.RunsRoot}: start it with `evolver run` first");
        // With cluster.bootstrap the node finds the cluster through its contact points, not by an address (docs/architecture.md §4).
        var coordinator = ClusterEntry.BootstrapOrNull(config.Settings.Cluster, request.Join, run)
            ?? (request.Join is { } join ? new CoordinatorRecord(JoinAddress(join), run.ClusterSecretPath)
            : run.RunningCoordinator() ?? throw new EvolverException($"run '{request.RunId}' has no coordinator running ({run.ClusterPath}): "
                + "start it with `evolver run`, or give --join HOST:PORT"));
        // The secret this node's config names, else the coordinator's (the run directory is shared; docs/architecture.md §4).
        return new NodeSources(recorded, ClusterEntry.SeedOf(coordinator), config.Settings.Cluster.SecretPath ?? coordinator.SecretPath, () => Fetcher(request, run),
            Path.Combine(run.Root, $"evaluators-{name}.log"),
            (population, settings) => RunWeights.Open(run, population, recorded, settings, CPU, worker: true));
    }

    /// <summary>
    /// No run directory to read (another host), or <c>--fetch-from</c>: the coordinator's file server sends the fingerprint
    /// and the snapshots, verified, into the node's own directory, where its log goes too; nothing is written into the run
    /// directory (docs/architecture.md §4). What the node must be given is checked before anything is fetched.
    /// </summary>
    private static async Task<NodeSources> FromFileServerAsync(NodeRequest request, RunConfiguration config, RunDirectory run, string name, Action<string> say)
    {
        var here = run.Exists ? run.RunningCoordinator() : null;
        var server = request.FetchFrom ?? throw new EvolverException($"run '{request.RunId}' is not under {run.RunsRoot} on this host: "
            + "give --fetch-from URL (the coordinator's file server) and --join HOST:PORT (its cluster address), or --runs the run directory");
        if (config.Settings.Cluster.Bootstrap is not null && request.Join is not null)
        {
            throw new EvolverException($"--join: not with cluster.bootstrap in {config.Source} (the node finds the cluster through its contact points)");
        }
        var seed = config.Settings.Cluster.Bootstrap is not null ? null
            : request.Join is { } join ? JoinAddress(join) : here?.Address
            ?? throw new EvolverException($"--fetch-from {server}: give --join HOST:PORT too (the coordinator's cluster address, `coordinator` in its cluster.json), or configure cluster.bootstrap");
        var secretPath = config.Settings.Cluster.SecretPath ?? here?.SecretPath
            ?? throw new EvolverException($"{config.Source}: cluster.secret is not set and run '{request.RunId}''s directory is not on this host to take the "
                + "coordinator's from: set cluster.secret to the cluster's secret file (the coordinator's, made with `evolver secret --out FILE`)");
        var cache = request.Cache ?? NodeRequest.DefaultCache;
        var fetcher = new WeightFetcher(Http.Value, RequireHttp(server), FileToken.ForNode(run), cache);
        var node = NodeDirectory.For(request.NodeDirectory, cache, request.RunId);
        var recorded = node.KeepFingerprint(request.RunId, await fetcher.FingerprintAsync().ConfigureAwait(false), fetcher.Server);
        say($"run.json and population snapshots come from {fetcher.Server}, kept in {node.Root} (sha256 verified)");
        var mirror = new SnapshotMirror(fetcher, node.SnapshotsPath, say);
        return new NodeSources(recorded, seed, secretPath, () => fetcher, node.LogPath(name),
            (population, settings) => RunWeights.Open(node.Root, config.Source, population, recorded, settings, CPU, worker: true, fetchSnapshot: mirror.Fetch),
            mirror);
    }

    /// <summary>Akka retries a join forever; a node that cannot reach its coordinator says so and exits instead of hanging.</summary>
    internal static async Task JoinOrGiveUpAsync(Microsoft.Extensions.Hosting.IHost host, string? seed, string name, ClusterSecret secret,
        BootstrapSettings? bootstrap = null)
    {
        var timeout = bootstrap is null ? JoinTimeout : ClusterEntry.BootstrapJoinTimeout;
        // A coordinator with another secret fails the TLS handshake at once: that is said at once too.
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        secret.Refused += (peer, theirs) =>
        {
            if (seed is null || SameNode(peer, seed))
            {
                seed ??= peer;
                refused.TrySetResult(theirs);
            }
        };
        var system = host.Services.GetRequiredService<ActorSystem>();
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        // A bootstrapping node whose management endpoint cannot listen says so at once (ClusterEntry).
        var endpoint = bootstrap is null ? Task.Delay(Timeout.Infinite) : ClusterEntry.EndpointFailed(system);
        var first = await Task.WhenAny(up.Task, refused.Task, endpoint, Task.Delay(timeout)).ConfigureAwait(false);
        if (first == endpoint)
        {
            await host.StopAsync().ConfigureAwait(false);
            await endpoint.ConfigureAwait(false);
        }
        if (first == refused.Task)
        {
            var theirs = await refused.Task.ConfigureAwait(false);
            await host.StopAsync().ConfigureAwait(false);
            throw new EvolverException($"node {name}: the coordinator at {seed} has another cluster secret (certificate {theirs}; "
                + $"this node's {secret.Path} is {secret.Fingerprint}): give both nodes the same secret file (cluster.secret)");
        }
        if (first != up.Task)
        {
            await host.StopAsync().ConfigureAwait(false);
            throw bootstrap is null
                ? new EvolverException($"node {name}: could not join the coordinator at {seed} within {timeout.TotalSeconds:F0} s "
                    + "(is the run still running, is that its address, and do both nodes have the same cluster secret?)")
                : new EvolverException($"node {name}: could not join {ClusterEntry.Describe(null, bootstrap)} within {timeout.TotalSeconds:F0} s "
                    + "(is the coordinator running, is its management endpoint among them, and do the nodes have the same cluster secret?)");
        }
    }

    /// <summary>The fetching cache of a node whose config names members this host lacks.</summary>
    private static WeightFetcher Fetcher(NodeRequest request, RunDirectory run)
    {
        var server = request.FetchFrom ?? AwaitFileServer(run)
            ?? throw new EvolverException($"run '{request.RunId}': starting members are missing on this host and no file server is known "
                + $"({run.ClusterPath} names none): give --fetch-from URL (the coordinator's, see its cluster.json)");
        return new WeightFetcher(Http.Value, RequireHttp(server), FileToken.ForNode(run), request.Cache ?? NodeRequest.DefaultCache);
    }

    private static string RequireHttp(string server) =>
        Uri.TryCreate(server, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? server
            : throw new EvolverException($"--fetch-from: '{server}' is not an http:// URL");

    /// <summary>
    /// The coordinator's file server URL from cluster.json. A coordinator starts its server a moment after its run (off
    /// the start-up path), so while it runs and names none yet, this waits for it a little.
    /// </summary>
    private static string? AwaitFileServer(RunDirectory run)
    {
        var wait = System.Diagnostics.Stopwatch.StartNew();
        while (run.RunningCoordinator() is { } coordinator)
        {
            if (coordinator.Files is not null || wait.Elapsed > TimeSpan.FromSeconds(15))
            {
                return coordinator.Files;
            }
            Thread.Sleep(100);
        }
        return null;
    }

    /// <summary><c>host:port</c> of the coordinator's remoting, as an Akka address.</summary>
    private static string JoinAddress(string join)
    {
        var colon = join.LastIndexOf(':');
        return colon > 0 && int.TryParse(join[(colon + 1)..], out var port) && port is > 0 and < 65536
            ? $"{EvolverHosting.Protocol}://{EvolverHosting.SystemName}@{join[..colon]}:{port}"
            : throw new EvolverException($"--join: '{join}' is not HOST:PORT (the coordinator's address, in its run directory's {RunDirectory.ClusterFileName})");
    }

    /// <summary>Whether two addresses name the same node whatever their schemes (the transport's has no "akka." prefix).</summary>
    private static bool SameNode(string a, string b) => AfterScheme(a).Equals(AfterScheme(b), StringComparison.OrdinalIgnoreCase);

    private static string AfterScheme(string address) => address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..];

    /// <summary>
    /// Ends the node when no coordinator is left in the cluster (the run ended or stopped; a standby that took over counts
    /// as one) or when this node is removed from it.
    /// </summary>
    private sealed class CoordinatorWatch : ReceiveActor
    {
        public CoordinatorWatch(TaskCompletionSource<string> ended)
        {
            var cluster = Cluster.Get(Context.System);
            // A coordinator leaving (Leaving, Exiting) counts at once, before its connection closes under this node.
            Receive<ClusterEvent.IMemberEvent>(m =>
            {
                if (m is ClusterEvent.MemberRemoved && m.Member.Address.Equals(cluster.SelfAddress))
                {
                    ended.TrySetResult("removed from the cluster");
                }
                else if (m is ClusterEvent.MemberLeft or ClusterEvent.MemberExited or ClusterEvent.MemberRemoved && m.Member.HasRole(EvolverHosting.Role)
                    && !cluster.State.Members.Any(other => other.HasRole(EvolverHosting.Role) && other.Status == MemberStatus.Up
                        && !other.Address.Equals(m.Member.Address) && !cluster.State.Unreachable.Contains(other)))
                {
                    ended.TrySetResult("the coordinator left the cluster (the run ended or stopped)");
                }
            });
            Receive<ClusterEvent.CurrentClusterState>(_ => { });
        }

        protected override void PreStart() =>
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
