using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EvolverActors.Actors.Hosting;
using EvolverActors.Tensors;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>The cluster secret's file (docs/architecture.md §4, "Security"): made owner-only, read back, refused when unusable.</summary>
public sealed class ClusterSecretTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void The_bootstrap_route_token_is_the_same_for_every_holder_of_a_secret_and_differs_between_secrets()
    {
        using var first = ClusterSecret.Create(_dir.File("a.p12"));
        using var again = ClusterSecret.Load(first.Path);
        using var other = ClusterSecret.Create(_dir.File("b.p12"));
        Assert.Matches("^[0-9a-f]{32}$", first.BootstrapRouteToken);
        Assert.Equal(first.BootstrapRouteToken, again.BootstrapRouteToken);
        Assert.NotEqual(first.BootstrapRouteToken, other.BootstrapRouteToken);
        // Neither the certificate (public) nor its fingerprint gives the token away.
        Assert.DoesNotContain(first.BootstrapRouteToken, Convert.ToHexStringLower(first.Certificate.RawData), StringComparison.Ordinal);
        Assert.Equal($"/{first.BootstrapRouteToken}bootstrap/seed-nodes", BootstrapEndpoint.RoutePath(first.BootstrapRouteToken));
    }

    [Fact]
    public void Evolver_secret_writes_an_owner_only_PKCS12_file_that_loads_back_and_refuses_to_overwrite_it()
    {
        var path = _dir.File("cluster.p12");
        var (code, output, _) = CliRunner.Run("secret", "--out", path);
        Assert.Equal(0, code);
        Assert.Contains("evolver.run.cluster.secret", output, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        using var secret = ClusterSecret.Load(path);
        Assert.True(secret.Certificate.HasPrivateKey);
        Assert.Contains(secret.Fingerprint, output, StringComparison.Ordinal);

        var again = CliRunner.Run("secret", "--out", path);
        Assert.Equal(2, again.Code);
        Assert.Contains("exists", again.Error, StringComparison.Ordinal);
        using var kept = ClusterSecret.Load(path);
        Assert.Equal(secret.Fingerprint, kept.Fingerprint);
        Assert.Equal(0, CliRunner.Run("secret", "--out", path, "--force").Code);
        using var replaced = ClusterSecret.Load(path);
        Assert.NotEqual(secret.Fingerprint, replaced.Fingerprint);
    }

    [Fact]
    public void A_run_makes_its_own_secret_once_and_reuses_it()
    {
        using var first = ClusterSecret.ForRun(_dir.Path);
        var written = File.GetLastWriteTimeUtc(first.Path);
        using var second = ClusterSecret.ForRun(_dir.Path);
        Assert.Equal(_dir.File(ClusterSecret.RunFileName), first.Path);
        Assert.Equal(first.Fingerprint, second.Fingerprint);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.Path));
    }

    [Fact]
    public void Only_the_secrets_own_certificate_is_accepted()
    {
        using var secret = ClusterSecret.Create(_dir.File("a.p12"));
        using var other = ClusterSecret.Create(_dir.File("b.p12"));
        using var sameFile = ClusterSecret.Load(_dir.File("a.p12"));
        Assert.True(secret.Accepts(sameFile.Certificate));
        Assert.False(secret.Accepts(other.Certificate));
        Assert.False(secret.Accepts(null));
        var refused = new List<string>();
        secret.Refused += (peer, _) => refused.Add(peer);
        Assert.False(secret.Validator(other.Certificate, null, "ssl.tcp://evolver@127.0.0.1:1", System.Net.Security.SslPolicyErrors.None, null!));
        Assert.True(secret.Validator(sameFile.Certificate, null, "ssl.tcp://evolver@127.0.0.1:1", System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, null!));
        Assert.Equal(["ssl.tcp://evolver@127.0.0.1:1"], refused);
    }

    [Fact]
    public void A_missing_damaged_open_or_password_protected_secret_is_one_line_naming_the_file()
    {
        Refused(_dir.File("none.p12"), "no such cluster secret");
        Refused(OwnerOnly(_dir.Write("junk.p12", "not a certificate"u8.ToArray())), "not a readable cluster secret");

        var open = _dir.File("open.p12");
        using (ClusterSecret.Create(open))
        {
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(open, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            Refused(open, "readable by other users: chmod 600 it");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        Refused(OwnerOnly(_dir.Write("locked.p12", certificate.Export(X509ContentType.Pkcs12, "a password"))), ClusterSecret.PasswordVariable);
    }

    private static string OwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }

    private static void Refused(string path, string expected)
    {
        var error = Assert.Throws<EvolverException>(() => ClusterSecret.Load(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    public void Dispose() => _dir.Dispose();
}
