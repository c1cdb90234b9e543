using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Remote.Transport.DotNetty;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Hosting;

/// <summary>
/// A cluster's shared secret (docs/architecture.md §4, "Security"): one self-signed certificate and its private key in a
/// PKCS#12 file that every node of the cluster holds. Remoting runs mutual TLS with it and accepts a peer only if the
/// peer presents exactly this certificate (pinned by SHA-256), which takes the private key to prove: a process without
/// the file completes no handshake, so it can neither join nor send a message. The file is the secret: mode 0600.
/// </summary>
public sealed class ClusterSecret : IDisposable
{
    /// <summary>A run's own secret when its config names none, in its run directory.</summary>
    public const string RunFileName = "cluster.p12";

    /// <summary>The password of a PKCS#12 file that has one (those <c>evolver secret</c> writes have none: the file mode guards them).</summary>
    public const string PasswordVariable = "EVOLVER_CLUSTER_SECRET_PASSWORD";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly byte[] _pin;

    private ClusterSecret(string path, X509Certificate2 certificate)
    {
        Path = path;
        Certificate = certificate;
        _pin = certificate.GetCertHash(HashAlgorithmName.SHA256);
        BootstrapRouteToken = DeriveBootstrapRouteToken(certificate);
    }

    public string Path { get; }
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate's SHA-256, short, to tell two secrets apart in messages.</summary>
    public string Fingerprint => Convert.ToHexStringLower(_pin)[..16];

    /// <summary>
    /// The path segment of the cluster-bootstrap endpoint (docs/architecture.md §4, "Security"): derived from the private
    /// key, so that only a holder of the secret can name the route; any other path is answered 404. Akka.Management's
    /// probes cannot send a header, but they prefix their requests with <c>akka.management.http.base-path</c>.
    /// </summary>
    public string BootstrapRouteToken { get; }

    /// <summary>Heard (peer, its certificate's fingerprint) when a peer presents another certificate; the handshake then fails.</summary>
    public event Action<string, string>? Refused;

    /// <summary>True iff <paramref name="peer"/> is this very certificate (its private key was proved by the handshake).</summary>
    public bool Accepts(X509Certificate2? peer) =>
        peer is not null && CryptographicOperations.FixedTimeEquals(peer.GetCertHash(HashAlgorithmName.SHA256), _pin);

    /// <summary>
    /// Remoting's check of a peer's certificate, on both ends of a connection. The chain of a self-signed certificate
    /// never validates, so its errors are not the test: the pin is. A refusal is told to <see cref="Refused"/>: the peer
    /// is an Akka address (<c>ssl.tcp://evolver@host:port</c>) for a connection this node opened, an IP end point for one it accepted.
    /// </summary>
    public CertificateValidationCallback Validator => (certificate, _, peer, _, _) =>
    {
        if (Accepts(certificate))
        {
            return true;
        }
        Refused?.Invoke(peer, certificate is null ? "none" : Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256))[..16]);
        return false;
    };

    /// <summary>Writes a fresh secret to <paramref name="path"/> (mode 0600); an existing file is refused unless <paramref name="overwrite"/>.</summary>
    public static ClusterSecret Create(string path, bool overwrite = false)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!overwrite && File.Exists(full))
        {
            throw new EvolverException($"{full}: exists (a cluster secret is replaced only on purpose: --force)");
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=evolver cluster {Guid.NewGuid():N}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false)); // server and client authentication
        // Its validity is not checked (the pin is), but TLS libraries want one.
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(100));
        WriteOwnerOnly(full, certificate.Export(X509ContentType.Pkcs12));
        return Load(full);
    }

    /// <summary>A run's own secret: the one in its directory, made there at its first start (the caller holds the run lock).</summary>
    public static ClusterSecret ForRun(string runDirectory)
    {
        var path = System.IO.Path.Combine(runDirectory, RunFileName);
        return File.Exists(path) ? Load(path) : Create(path);
    }

    /// <summary>Reads a secret; every problem is one line naming the file.</summary>
    public static ClusterSecret Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new EvolverException($"{full}: no such cluster secret (`evolver secret --out FILE` makes one: copy it to every node and name it in evolver.run.cluster.secret)");
        }
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & GroupOrOthers) != 0)
        {
            throw new EvolverException($"{full}: the cluster secret is readable by other users: chmod 600 it");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(full, Environment.GetEnvironmentVariable(PasswordVariable),
                X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            throw new EvolverException($"{full}: not a readable cluster secret ({e.Message.Split('\n')[0].TrimEnd('.')}; "
                + $"a PKCS#12 file from `evolver secret`, or one whose password is in {PasswordVariable})");
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new EvolverException($"{full}: the cluster secret holds a certificate without its private key");
        }
        return new ClusterSecret(full, certificate);
    }

    private static string DeriveBootstrapRouteToken(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()
            ?? throw new EvolverException($"the cluster secret's key is neither ECDSA nor RSA ({certificate.PublicKey.Oid.FriendlyName})");
        var material = key.ExportPkcs8PrivateKey();
        try
        {
            return Convert.ToHexStringLower(HMACSHA256.HashData(material, "evolver cluster bootstrap route"u8))[..32];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>Creates the file with mode 0600 from the start (never a moment readable by others), then renames it in place.</summary>
    private static void WriteOwnerOnly(string path, byte[] bytes)
    {
        var dir = System.IO.Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public void Dispose() => Certificate.Dispose();
}
