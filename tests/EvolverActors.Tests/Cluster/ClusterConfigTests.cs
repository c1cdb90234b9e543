using EvolverActors.Actors.Run;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary><c>evolver.run.cluster.*</c>: loopback and a kernel-picked port by default, checked keys, written back to run.conf.</summary>
public sealed class ClusterConfigTests
{
    private static ClusterSettings Parse(string body) =>
        RunSettings.Parse(HoconSettings.Parse($"evolver.run {{ {body} }}", "test.conf").Section("evolver").Section("run"), "t").Cluster;

    [Fact]
    public void By_default_a_node_listens_on_loopback_on_a_port_the_kernel_picks_with_the_runs_own_secret()
    {
        var cluster = Parse("");
        Assert.Equal("127.0.0.1", cluster.Hostname);
        Assert.Equal(0, cluster.Port);
        Assert.Null(cluster.PublicHostname);
        Assert.Null(cluster.SecretPath);
        Assert.True(ClusterSettings.IsLoopback(cluster.Hostname));
    }

    [Fact]
    public void An_address_port_public_name_and_secret_are_taken_with_the_secret_path_made_absolute()
    {
        var cluster = Parse("cluster { hostname = 0.0.0.0, port = 4053, public-hostname = node1.lab, secret = \"keys/cluster.p12\" }");
        Assert.Equal("0.0.0.0", cluster.Hostname);
        Assert.Equal(4053, cluster.Port);
        Assert.Equal("node1.lab", cluster.PublicHostname);
        Assert.Equal(Path.GetFullPath("keys/cluster.p12"), cluster.SecretPath);
        Assert.False(ClusterSettings.IsLoopback("10.0.0.5"));
    }

    [Theory]
    [InlineData("cluster.hostname = \"::\"", "evolver.run.cluster.hostname = '::' binds every interface")]
    [InlineData("cluster.hostname = \"no such host!\"", "evolver.run.cluster.hostname = 'no such host!' is neither an IP address nor a host name")]
    [InlineData("cluster { hostname = 10.0.0.5, public-hostname = 0.0.0.0 }", "evolver.run.cluster.public-hostname = '0.0.0.0' is not an address other nodes can reach")]
    [InlineData("cluster.port = -1", "evolver.run.cluster.port = -1 is out of range [0, 65535]")]
    [InlineData("cluster.secret = \"\"", "evolver.run.cluster.secret is empty")]
    [InlineData("cluster.bootstrap { }", "evolver.run.cluster.bootstrap.discovery is required with cluster.bootstrap: use config or kubernetes-api")]
    [InlineData("cluster.bootstrap.discovery = dns", "evolver.run.cluster.bootstrap.discovery = 'dns' is unknown: use config | kubernetes-api")]
    [InlineData("cluster.bootstrap.discovery = config", "evolver.run.cluster.bootstrap.contact-points is required with discovery = config")]
    [InlineData("cluster.bootstrap { discovery = config, contact-points = [\"node1\"] }", "evolver.run.cluster.bootstrap.contact-points has 'node1', which is not HOST:PORT")]
    [InlineData("cluster.bootstrap { discovery = config, contact-points = [\"node1:8558\"], management-port = 70000 }", "evolver.run.cluster.bootstrap.management-port = 70000 is out of range [0, 65535]")]
    [InlineData("cluster.bootstrap { discovery = config, contact-points = [\"node1:8558\"], required-contact-points = 0 }", "evolver.run.cluster.bootstrap.required-contact-points = 0 is out of range [1, 64]")]
    [InlineData("cluster.bootstrap { discovery = config, contact-points = [\"node1:8558\"], management-hostname = 0.0.0.0 }", "evolver.run.cluster.bootstrap.management-hostname = '0.0.0.0' binds every interface")]
    [InlineData("cluster.bootstrap { discovery = kubernetes-api, contact-points = [\"node1:8558\"] }", "evolver.run.cluster.bootstrap.contact-points is for discovery = config")]
    [InlineData("cluster.bootstrap { discovery = config, contact-points = [\"node1:8558\"], pod-label-selector = \"app=x\" }", "evolver.run.cluster.bootstrap.pod-label-selector is for discovery = kubernetes-api")]
    public void Values_that_cannot_work_are_one_line_naming_the_key(string body, string expected)
    {
        var error = Assert.Throws<EvolverException>(() => Parse(body));
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Without_a_bootstrap_section_nodes_join_by_address_and_with_one_its_defaults_bind_loopback()
    {
        Assert.Null(Parse("").Bootstrap);
        var config = Parse("cluster.bootstrap { discovery = config, contact-points = [\"10.0.0.1:8558\", \"node2.lab:8558\"] }").Bootstrap!;
        Assert.Equal(BootstrapDiscovery.Config, config.Discovery);
        Assert.Equal(["10.0.0.1:8558", "node2.lab:8558"], config.ContactPoints);
        Assert.Equal(1, config.RequiredContactPoints);
        Assert.Equal("127.0.0.1", config.ManagementHostname);
        Assert.Equal(0, config.ManagementPort);
        var kubernetes = Parse("cluster.public-hostname = 10.1.2.3, cluster.bootstrap { discovery = kubernetes-api, management-hostname = 0.0.0.0, management-port = 8558 }").Bootstrap!;
        Assert.Equal(BootstrapDiscovery.KubernetesApi, kubernetes.Discovery);
        Assert.Equal(BootstrapSettings.DefaultPodLabelSelector, kubernetes.PodLabelSelector);
        Assert.Null(kubernetes.PodNamespace);
        Assert.Equal(8558, kubernetes.ManagementPort);
    }

    [Fact]
    public void A_misspelled_bootstrap_key_is_refused_naming_the_closest_one()
    {
        var root = HoconSettings.Parse("evolver.run { cluster.bootstrap { discovery = config, contact-points = [\"a:1\"], contact-point = x } }", "test.conf");
        RunSettings.Parse(root.Section("evolver").Section("run"), "t");
        var error = Assert.Throws<EvolverException>(root.RequireAllKnown);
        Assert.Contains("unknown key 'evolver.run.cluster.bootstrap.contact-point' (did you mean 'evolver.run.cluster.bootstrap.contact-points'?)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_split_brain_resolver_is_on_and_keeps_the_majority_10_s_after_a_node_stops_answering()
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString(EvolverActors.Actors.Hosting.EvolverHosting.Hocon + """

            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            """);
        using var system = Akka.Actor.ActorSystem.Create("sbr-check", config);
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            Assert.Equal(typeof(Akka.Cluster.SBR.SplitBrainResolverProvider), cluster.Settings.DowningProviderType);
            Assert.Equal("keep-majority", system.Settings.Config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
            Assert.Equal(TimeSpan.FromSeconds(10), system.Settings.Config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void The_cluster_keys_are_not_part_of_the_runs_identity_so_a_resume_may_move_the_node()
    {
        var settings = RunSettings.Parse(HoconSettings.Parse("evolver.run { cluster { hostname = 10.0.0.5, port = 4053 } }", "t.conf").Section("evolver").Section("run"), "t");
        Assert.DoesNotContain(settings.Identity().Keys, key => key.StartsWith("cluster", StringComparison.Ordinal));
    }
}
