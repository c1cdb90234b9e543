using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using EvolverActors.Actors.Hosting;
using EvolverActors.Host.Run;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>
/// The cluster secret (docs/architecture.md §4, "Security"): remoting is mutual TLS pinned to one certificate, so only a
/// process holding the secret file joins; another secret, no certificate or no TLS at all gets no association.
/// </summary>
public sealed partial class WorkerNodeTests
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long the control connection (with the secret) must stay open: well within Akka's handshake time-out.</summary>
    private static readonly TimeSpan ControlWait = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Only_a_node_with_the_configured_cluster_secret_joins_and_nothing_without_it_gets_a_connection()
    {
        using var cluster = new LoopbackCluster(budget: 3000);
        var secret = Path.Combine(cluster.Root, "secret.p12");
        var other = Path.Combine(cluster.Root, "other.p12");
        Assert.Equal(0, CliRunner.Run("secret", "--out", secret).Code);
        Assert.Equal(0, CliRunner.Run("secret", "--out", other).Code);
        cluster.WriteCoordinatorConfig($"cluster.secret = \"{secret}\"");
        var good = cluster.WriteWorkerConfig("good.conf", $"cluster.secret = \"{secret}\"");
        var wrong = cluster.WriteWorkerConfig("wrong.conf", $"cluster.secret = \"{other}\"");

        var coordinator = cluster.StartCoordinator();
        var w1 = cluster.StartWorker("w1", good);
        Assert.Equal(secret, cluster.Run.RunningCoordinator()!.SecretPath);
        Assert.False(File.Exists(cluster.Run.ClusterSecretPath), "a run with a configured secret makes none of its own");

        // A node with another secret: one line naming the problem, at once (its TLS handshake fails), no stack trace.
        var stray = cluster.StartWorker("stray", wrong);
        await LoopbackCluster.ExitsWith(2, stray, TimeSpan.FromMinutes(1));
        var said = cluster.Output(stray);
        Assert.True(said.Contains("error: node stray: the coordinator at akka.ssl.tcp://evolver@127.0.0.1:", StringComparison.Ordinal)
            && said.Contains("has another cluster secret", StringComparison.Ordinal), said);
        Assert.False(said.Contains("   at ", StringComparison.Ordinal), said);

        // Raw connections to the coordinator's remoting port: plain TCP, TLS without a client certificate, TLS with another one.
        var port = new Uri(cluster.Run.RunningCoordinator()!.Address.Replace("akka.ssl.tcp", "tcp", StringComparison.Ordinal)).Port;
        using var ours = ClusterSecret.Load(secret);
        using var theirs = ClusterSecret.Load(other);
        Assert.True(await PlainConnectionIsClosedAsync(port), "plain TCP bytes got no close");
        Assert.True(await TlsConnectionIsClosedAsync(port, clientCertificate: null), "TLS without a client certificate got no close");
        Assert.True(await TlsConnectionIsClosedAsync(port, theirs.Certificate), "TLS with another certificate got no close");
        // The control: the same probe with the secret completes its handshake against the pinned certificate and stays open.
        Assert.False(await TlsConnectionIsClosedAsync(port, ours.Certificate, expectServer: ours), "TLS with the secret was closed");

        await LoopbackCluster.ExitsWith(0, coordinator, TimeSpan.FromMinutes(4));
        await LoopbackCluster.ExitsWith(0, w1, TimeSpan.FromMinutes(1));
        Assert.True(cluster.ScoredBy(w1) > 0, $"the worker with the secret scored nothing: {cluster.Output(w1)}");
        Assert.Equal(3000, (await JournalAccess.ReadLedgerAsync(cluster.Run)).State.Evaluations);
        var coordinatorSaid = cluster.Output(coordinator);
        Assert.False(coordinatorSaid.Contains("   at ", StringComparison.Ordinal), coordinatorSaid);
        Assert.True(coordinatorSaid.Contains("refused a connection with", StringComparison.Ordinal), coordinatorSaid);
    }

    /// <summary>Sends bytes that are not TLS; true if the coordinator closes the connection within the probe time.</summary>
    private static async Task<bool> PlainConnectionIsClosedAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("\0\0\0\u0010akka.tcp garbage"u8.ToArray(), TestContext.Current.CancellationToken);
        return await EndsAsync(stream, ProbeTimeout);
    }

    /// <summary>
    /// A TLS client that accepts any server certificate and presents <paramref name="clientCertificate"/> (or none);
    /// true if the handshake fails or the connection is closed within the probe time.
    /// </summary>
    private static async Task<bool> TlsConnectionIsClosedAsync(int port, X509Certificate2? clientCertificate, ClusterSecret? expectServer = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken);
#pragma warning disable CA5359 // the probe plays a stranger, who trusts whatever answers; the coordinator must refuse it
        await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
#pragma warning restore CA5359
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
        };
        try
        {
            await tls.AuthenticateAsClientAsync(options, TestContext.Current.CancellationToken).WaitAsync(ProbeTimeout, TestContext.Current.CancellationToken);
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            return true;
        }
        if (expectServer is not null)
        {
            Assert.True(expectServer.Accepts(tls.RemoteCertificate as X509Certificate2), "the coordinator presented another certificate");
        }
        // TLS 1.3 ends the client's handshake before the server has checked the client's certificate: its verdict comes after.
        // Nothing is sent (the coordinator would close a connection whose first frame is not Akka's).
        return await EndsAsync(tls, expectServer is null ? ProbeTimeout : ControlWait);
    }

    /// <summary>Reads until the peer closes (true) or the probe time passes with the connection still open (false).</summary>
    private static async Task<bool> EndsAsync(Stream stream, TimeSpan wait)
    {
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
            return true;
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
