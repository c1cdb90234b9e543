using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
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
    public const string Role = "evolver";

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
        """;

    /// <summary>A free TCP port on loopback for this node's remoting.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static AkkaConfigurationBuilder AddEvolver(this AkkaConfigurationBuilder builder, EvolverRuntime runtime, JournalConnection journal, int port)
    {
        ArgumentNullException.ThrowIfNull(journal);
        return builder
            .AddHocon(Hocon + "\n" + EvolverSerializer.Hocon, HoconAddMode.Prepend)
            .WithActors((system, _) => EvolverRuntime.Install(system, runtime))
            .WithRemoting("127.0.0.1", port)
            .WithClustering(new ClusterOptions
            {
                SeedNodes = [$"akka.tcp://{SystemName}@127.0.0.1:{port}"],
                Roles = [Role],
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
            .WithActors((system, registry) =>
            {
                var steward = registry.Get<StewardProxy>();
                var breeder = system.ActorOf(Props.Create(() => new BreederActor(steward)).WithDispatcher("evolver.pinned-dispatcher"), "breeder");
                registry.Register<Breeder>(breeder);
                for (var i = 0; i < runtime.Settings.Devices.Count; i++)
                {
                    var name = $"evaluator-{i}-{runtime.Settings.Devices[i].Replace(':', '-')}";
                    var device = ParseDevice(runtime.Settings.Devices[i]);
                    system.ActorOf(Props.Create(() => new EvaluatorActor(name, device, steward, breeder)).WithDispatcher("evolver.pinned-dispatcher"), name);
                }
            });
    }

    /// <summary>
    /// The device an evaluator is bound to. Whether CUDA is present was checked when the run was configured: a
    /// built-in evaluator needs it in this process, an external worker only in its own (it gets the name).
    /// </summary>
    private static Device ParseDevice(string name) => device(name.ToLowerInvariant());
}
