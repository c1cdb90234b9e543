using System.CommandLine;
using System.Text.RegularExpressions;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Commands;

/// <summary>
/// The files under <c>deploy/</c> cannot rot unnoticed: their run configs load with the real loader (strict keys), and
/// every <c>evolver</c> command and flag they name exists. Reads the repository's files; starts nothing.
/// </summary>
public sealed partial class DeployFilesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The repository root: the first directory above the test assembly that holds EvolverActors.sln.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EvolverActors.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no EvolverActors.sln above {AppContext.BaseDirectory}");
    }

    private static string Deploy(string relative) => Path.Combine(RepositoryRoot(), "deploy", relative);

    public static TheoryData<string> RunConfigs() => ["config/cluster-demo.conf", "k8s/cluster-demo.conf"];

    [Theory]
    [MemberData(nameof(RunConfigs))]
    public void Sample_run_configs_load_and_name_a_cluster_every_node_can_join(string relative)
    {
        var config = RunConfiguration.Load(Deploy(relative));

        Assert.Equal("simulated", config.Task?.DisplayName);
        Assert.Equal("0.0.0.0", config.Settings.Cluster.Hostname);
        Assert.Equal(4053, config.Settings.Cluster.Port);
        Assert.Equal("/secrets/cluster.p12", config.Settings.Cluster.SecretPath);
        Assert.Equal(JournalProvider.PostgreSql, config.Settings.JournalDatabase?.Provider);
        Assert.DoesNotContain("Password", config.Settings.JournalDatabase!.ConnectionString, StringComparison.OrdinalIgnoreCase);
        // Nodes find each other through cluster bootstrap on every interface, management endpoint on a fixed port.
        var bootstrap = config.Settings.Cluster.Bootstrap;
        Assert.NotNull(bootstrap);
        Assert.Equal("0.0.0.0", bootstrap.ManagementHostname);
        Assert.Equal(ManagementPort, bootstrap.ManagementPort);
    }

    private const int ManagementPort = 8558;

    [Fact]
    public void Compose_nodes_find_each_other_by_config_discovery_of_every_services_management_endpoint()
    {
        var bootstrap = RunConfiguration.Load(Deploy("config/cluster-demo.conf")).Settings.Cluster.Bootstrap!;
        Assert.Equal(BootstrapDiscovery.Config, bootstrap.Discovery);
        var compose = File.ReadAllText(Deploy("compose.yaml"));
        foreach (var node in new[] { "coordinator", "standby", "worker-1", "worker-2" })
        {
            Assert.Contains($"{node}:{ManagementPort}", bootstrap.ContactPoints);
            Assert.Contains($"hostname: {node}\n", compose, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("--join", compose, StringComparison.Ordinal);
    }

    public static TheoryData<string> KubernetesPods() => ["k8s/coordinator.yaml", "k8s/standby.yaml", "k8s/workers.yaml"];

    [Theory]
    [MemberData(nameof(KubernetesPods))]
    public void Kubernetes_pods_are_found_by_the_api_at_their_management_port_with_a_service_account_that_may_list_pods(string relative)
    {
        var bootstrap = RunConfiguration.Load(Deploy("k8s/cluster-demo.conf")).Settings.Cluster.Bootstrap!;
        Assert.Equal(BootstrapDiscovery.KubernetesApi, bootstrap.Discovery);
        var pod = File.ReadAllText(Deploy(relative));
        var (key, value) = (bootstrap.PodLabelSelector.Split('=')[0], bootstrap.PodLabelSelector.Split('=')[1]);
        Assert.Contains($"{key}: {value}\n", pod, StringComparison.Ordinal);
        Assert.Contains($"{{ name: {BootstrapSettings.KubernetesPortName}, containerPort: {ManagementPort} }}", pod, StringComparison.Ordinal);
        Assert.Contains("serviceAccountName: evolver ", pod, StringComparison.Ordinal);
        Assert.DoesNotContain("--join", string.Join('\n', File.ReadLines(Deploy(relative)).Where(line => !line.TrimStart().StartsWith('#'))), StringComparison.Ordinal);

        var rbac = File.ReadAllText(Deploy("k8s/rbac.yaml"));
        Assert.Contains("kind: ServiceAccount\nmetadata:\n  name: evolver\n", rbac, StringComparison.Ordinal);
        Assert.Contains("resources: [\"pods\"]\n    verbs: [\"get\", \"watch\", \"list\"]", rbac, StringComparison.Ordinal);
        Assert.Contains("kind: RoleBinding", rbac, StringComparison.Ordinal);
        Assert.Contains("  - rbac.yaml\n", File.ReadAllText(Deploy("k8s/kustomization.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_and_kubernetes_run_the_same_run()
    {
        // The same node (the same appended address): the two files differ only in the coordinator's default address
        // and in how nodes find each other: config discovery in compose, the Kubernetes API in Kubernetes.
        var compose = LoadAsNode("config/cluster-demo.conf", "10.1.2.3");
        var kubernetes = LoadAsNode("k8s/cluster-demo.conf", "10.1.2.3");

        Assert.NotEqual(compose.Settings.Cluster.Bootstrap!.Discovery, kubernetes.Settings.Cluster.Bootstrap!.Discovery);
        Assert.Equal(WithoutBootstrap(RunConfigWriter.Render(compose, commented: false)), WithoutBootstrap(RunConfigWriter.Render(kubernetes, commented: false)));
    }

    private static string WithoutBootstrap(string rendered) => BootstrapSection().Replace(rendered, "");

    [Theory]
    [MemberData(nameof(RunConfigs))]
    public void The_line_evolver_config_appends_sets_the_public_hostname(string relative)
    {
        Assert.Contains("evolver.run.cluster.public-hostname = \"%s\"", File.ReadAllText(Deploy("evolver-config")), StringComparison.Ordinal);

        var config = LoadAsNode(relative, "10.1.2.3");

        Assert.Equal("10.1.2.3", config.Settings.Cluster.PublicHostname);
        Assert.Equal("0.0.0.0", config.Settings.Cluster.Hostname);
    }

    /// <summary>What deploy/evolver-config does: a copy of the config with one line appended (a later HOCON key wins).</summary>
    private RunConfiguration LoadAsNode(string relative, string publicHostname)
    {
        var copy = _dir.File(Guid.NewGuid().ToString("N") + ".conf");
        File.WriteAllText(copy, File.ReadAllText(Deploy(relative)) + $"\nevolver.run.cluster.public-hostname = \"{publicHostname}\"\n");
        return RunConfiguration.Load(copy);
    }

    public static TheoryData<string> FilesWithCommands() => ["compose.yaml", "k8s/coordinator.yaml", "k8s/standby.yaml", "k8s/workers.yaml"];

    [Theory]
    [MemberData(nameof(FilesWithCommands))]
    public void Every_evolver_command_and_flag_named_exists(string relative)
    {
        // Comments may quote other tools' flags (docker compose up --build); commands are outside them.
        var text = string.Join('\n', File.ReadLines(Deploy(relative)).Where(line => !line.TrimStart().StartsWith('#')));
        var commands = Cli.AllCommands();
        var named = new List<Command>();
        foreach (Match m in EvolverCommand().Matches(text))
        {
            var command = commands.SingleOrDefault(c => c.Name == m.Groups[1].Value);
            Assert.True(command is not null, $"{relative}: `evolver {m.Groups[1].Value}` is not a command");
            if (m.Groups[2].Success && command.Subcommands.SingleOrDefault(c => c.Name == m.Groups[2].Value) is { } sub)
            {
                command = sub;
            }
            named.Add(command);
        }
        Assert.NotEmpty(named);
        var known = named.SelectMany(c => c.Options).SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (Match flag in Flag().Matches(text))
        {
            Assert.True(known.Contains(flag.Value), $"{relative}: {flag.Value} is not a flag of {string.Join(", ", named.Select(c => c.Name).Distinct())}");
        }
    }

    [GeneratedRegex(@"\n *bootstrap \{.*?\n *\}", RegexOptions.Singleline)]
    private static partial Regex BootstrapSection();

    [GeneratedRegex(@"\bevolver ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")]
    private static partial Regex EvolverCommand();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z-]*")]
    private static partial Regex Flag();
}
