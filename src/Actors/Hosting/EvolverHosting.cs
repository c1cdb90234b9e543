using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Evaluation;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Serialization;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using static TorchSharp.torch;

namespace EvolverActors.Actors.Hosting;

/// <summary>Registry keys of the run's actors.</summary>
public sealed class MemberRegion;

public sealed class StewardProxy;

public sealed class Breeder;

/// <summary>
/// The recipe that wires one node of a run: a cluster (of one, on loopback, by default), the SQL journal,
/// members as sharding entities, the steward as a singleton, a breeder and one evaluator per device.
/// The host and the tests both call <see cref="AddEvolver"/>.
/// </summary>
public static class EvolverHosting
{
    public const string SystemName = "evolver";
    /// <summary>The coordinator's role: it hosts the steward singleton, the members and the breeder.</summary>
    public const string Role = "evolver";

    /// <summary>A worker node's role: evaluators only.</summary>
    public const string WorkerRole = "worker";

    /// <summary>The scheme of a node's address: remoting is always TLS (docs/architecture.md §4, "Security").</summary>
    public const string Protocol = "akka.ssl.tcp";

    /// <summary>What Akka's log messages about a failed TLS handshake say (on both ends, and in the association failure).</summary>
    private const string TlsFailure = "TLS handshake failed";

    /// <summary>
    /// What Akka's endpoint writer logs, with a stack trace, when a peer's connection closes: every node that exits first
    /// at the end of a run causes it. A peer lost mid-run is still reported, by the cluster's one-line unreachable warning.
    /// </summary>
    private const string PeerDisassociated = "Disassociated";

    /// <summary>Dispatchers: each evaluator and the breeder get a thread of their own (TorchSharp scopes are thread-static).</summary>
    public const string Hocon = """
        evolver.pinned-dispatcher {
          type = PinnedDispatcher
          executor = thread-pool-executor
        }
        akka.loglevel = WARNING
        akka.cluster.log-info = off
        akka.cluster.singleton-proxy.log-singleton-identification-failure = off
        akka.remote.log-remote-lifecycle-events = off
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        akka.persistence.journal.sql.auto-initialize = on
        # Start-up: the node is Up, finds the steward singleton and registers its shard region in a fraction of a
        # second; the defaults poll every 1-2 s, which was most of a resume's time (docs/architecture.md, "Start-up").
        akka.cluster.periodic-tasks-initial-delay = 100ms
        akka.cluster.leader-actions-interval = 250ms
        akka.cluster.singleton-proxy.singleton-identification-interval = 100ms
        akka.cluster.sharding.retry-interval = 250ms
        # Several nodes (docs/architecture.md §4): the split-brain resolver (keep-majority) downs a node that stayed
        # unreachable this long; its evaluators' in-flight offspring are re-issued then, and decisions (in issue order)
        # wait for them meanwhile. 20 s by default; a shorter wait stalls the run less when a worker dies.
        akka.cluster.split-brain-resolver.stable-after = 10s
        """;

    /// <summary>
    /// The settings every node starts with. <c>EVOLVER_AKKA_LOGLEVEL</c> (DEBUG, INFO, WARNING, ERROR) turns Akka's own
    /// log up to follow cluster membership, singletons and remoting when something goes wrong between nodes.
    /// </summary>
    private static string NodeHocon()
    {
        var hocon = Hocon + "\n" + EvolverSerializer.Hocon;
        if (Environment.GetEnvironmentVariable("EVOLVER_AKKA_LOGLEVEL") is not { Length: > 0 } level)
        {
            return hocon;
        }
        return level.ToUpperInvariant() is "DEBUG" or "INFO" or "WARNING" or "ERROR"
            ? hocon + $"\nakka.loglevel = {level.ToUpperInvariant()}"
            : throw new Tensors.EvolverException($"EVOLVER_AKKA_LOGLEVEL: '{level}' is not DEBUG, INFO, WARNING or ERROR");
    }

    /// <summary>
    /// A coordinator-capable node: the steward singleton, the members' shard region, the breeder singleton and its own
    /// evaluators. <paramref name="seed"/> null: it founds the cluster (`evolver run`) by joining itself; else it joins the
    /// cluster there as a standby (`evolver node --coordinator`), which takes the singletons over when the oldest
    /// coordinator is lost (docs/architecture.md §4). With <c>cluster.bootstrap</c> the seed is not used: the node finds the
    /// cluster through its contact points, and only a founder (not <paramref name="standby"/>) may form it.
    /// <paramref name="namePrefix"/> tells its evaluators apart from the
    /// first coordinator's. Remoting binds <c>cluster.hostname</c> (loopback by default) and, by default, a port the
    /// kernel picks (a port probed free and bound later can be taken in between by another process), with mutual TLS on
    /// the cluster <paramref name="secret"/>.
    /// </summary>
    public static AkkaConfigurationBuilder AddEvolver(this AkkaConfigurationBuilder builder, EvolverRuntime runtime, JournalConnection journal,
        ClusterSecret secret, string? seed = null, string namePrefix = "", bool standby = false)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(runtime);
        return builder
            .AddHocon(NodeHocon(), HoconAddMode.Prepend)
            .WithActors((system, _) => EvolverRuntime.Install(system, runtime))
            .WithSecureRemoting(runtime.Settings.Cluster, secret)
            .WithClusterJoin(runtime.Settings.Cluster, Role, seed, founds: seed is null && !standby, secret)
            .AddStartup((system, _) =>
            {
                Tensors.Diagnostics.StartupTrace.Mark("actor system started");
                Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => Tensors.Diagnostics.StartupTrace.Mark("this node is Up in the cluster"));
                system.ActorOf(Props.Create(() => new PersistenceWarmup()), "persistence-warm-up");
            })
            .WithSqlPersistence(connectionString: journal.ConnectionString, providerName: journal.LinqToDbProvider, autoInitialize: true)
            .WithShardRegion<MemberRegion>("member",
                entityId => Props.Create(() => new MemberActor(int.Parse(entityId, CultureInfo.InvariantCulture))),
                new MemberMessageExtractor(),
                new ShardOptions { StateStoreMode = StateStoreMode.DData, RememberEntities = false, Role = Role })
            .WithSingleton<StewardProxy>("steward",
                (_, registry, _) => Props.Create(() => new StewardActor(registry.Get<MemberRegion>())),
                new ClusterSingletonOptions { Role = Role },
                createProxyToo: true)
            // A singleton like the steward, so that it moves with it; evaluators reach it through its proxy.
            .WithSingleton<Breeder>("breeder",
                (_, registry, _) => Props.Create(() => new BreederActor(registry.Get<StewardProxy>())).WithDispatcher("evolver.pinned-dispatcher"),
                new ClusterSingletonOptions { Role = Role },
                createProxyToo: true)
            .WithActors((system, registry) =>
            {
                system.ActorOf(Props.Create(() => new SingletonHomeWatch()), "singleton-home-watch");
                var steward = registry.Get<StewardProxy>();
                var breeder = registry.Get<Breeder>();
                foreach (var (name, props) in EvaluatorPropsFor(runtime, steward, namePrefix))
                {
                    system.ActorOf(props(breeder), name);
                }
            });
    }

    /// <summary>
    /// A worker node (docs/architecture.md §4): joins the cluster of the coordinator at <paramref name="seed"/> (null: found
    /// through <c>cluster.bootstrap</c>) and offers
    /// one evaluator per device of its own; they pull work from the breeder singleton and report to the steward
    /// singleton, and rebuild the weights they score from recipes. It hosts no member, steward or breeder.
    /// <paramref name="report"/> hears when the evaluators have started. Its remoting is set up as the coordinator's:
    /// it takes the same cluster <paramref name="secret"/> to join.
    /// </summary>
    public static AkkaConfigurationBuilder AddEvolverWorker(this AkkaConfigurationBuilder builder, EvolverRuntime runtime, string? seed, string nodeName,
        Action<string> report, ClusterSecret secret)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        return builder
            .AddHocon(NodeHocon(), HoconAddMode.Prepend)
            .WithActors((system, _) => EvolverRuntime.Install(system, runtime))
            .WithSecureRemoting(runtime.Settings.Cluster, secret)
            .WithClusterJoin(runtime.Settings.Cluster, WorkerRole, seed, founds: false, secret)
            .WithSingletonProxy<StewardProxy>("steward", new ClusterSingletonOptions { Role = Role })
            .WithSingletonProxy<Breeder>("breeder", new ClusterSingletonOptions { Role = Role })
            .WithActors((system, registry) =>
            {
                system.ActorOf(Props.Create(() => new SingletonHomeWatch()), "singleton-home-watch");
                var evaluators = EvaluatorPropsFor(runtime, registry.Get<StewardProxy>(), namePrefix: nodeName + "-");
                var breeder = registry.Get<Breeder>();
                system.ActorOf(Props.Create(() => new WorkerEvaluators(breeder, evaluators, report)), "worker");
            });
    }

    /// <summary>
    /// Remoting on the configured address with mutual TLS: each end presents the secret's certificate and accepts only
    /// that certificate from the other (its chain is not checked: it is self-signed and pinned instead).
    /// </summary>
    private static AkkaConfigurationBuilder WithSecureRemoting(this AkkaConfigurationBuilder builder, ClusterSettings cluster, ClusterSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        // A refused handshake is the callers' to report, in one line (ClusterSecret.Refused); Akka would log it with stack
        // traces, as it does contact points that do not answer yet while a node bootstraps.
        return builder
            .AddSetup(new LogFilterBuilder().ExcludeMessageContaining(TlsFailure).ExcludeMessageContaining(PeerDisassociated).ExcludeSourceRegex(ClusterJoining.QuietLogSources()).Build())
            .WithRemoting(new RemoteOptions
            {
                HostName = cluster.Hostname,
                Port = cluster.Port,
                PublicHostName = cluster.PublicHostname,
                EnableSsl = true,
                Ssl = new SslOptions
                {
                    X509Certificate = secret.Certificate,
                    SuppressValidation = false,
                    RequireMutualAuthentication = true,
                    ValidateCertificateHostname = false,
                    CustomValidator = secret.Validator,
                },
            });
    }

    /// <summary>One evaluator per configured device (each on its own thread), given the breeder it pulls work from.</summary>
    internal static List<(string Name, Func<IActorRef, Props> Props)> EvaluatorPropsFor(EvolverRuntime runtime, IActorRef steward, string namePrefix) =>
        [.. runtime.Settings.Devices.Select((deviceName, i) =>
        {
            var name = $"{namePrefix}evaluator-{i}-{deviceName.Replace(':', '-')}";
            var device = ParseDevice(deviceName);
            return (name, (Func<IActorRef, Props>)(breeder => Props.Create(() => new EvaluatorActor(name, device, steward, breeder)).WithDispatcher("evolver.pinned-dispatcher")));
        })];

    /// <summary>
    /// The device an evaluator is bound to. Whether CUDA is present was checked when the run was configured: a
    /// built-in evaluator needs it in this process, an external worker only in its own (it gets the name).
    /// </summary>
    private static Device ParseDevice(string name) => device(name.ToLowerInvariant());
}
