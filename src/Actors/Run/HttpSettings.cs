using System.Net;
using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Actors.Run;

/// <summary>
/// The run node's HTTP endpoint (<c>evolver.run.http</c>, <c>evolver.run.metrics</c>; docs/architecture.md §6): the live
/// page, <c>/metrics</c> and the control API. Loopback by default; reads need no token, every write call needs the run's.
/// </summary>
public sealed record HttpSettings
{
    public const string DefaultBind = "127.0.0.1:8470";

    /// <summary>Where the endpoint listens (port 0: one the kernel picks).</summary>
    public IPEndPoint Bind { get; init; } = IPEndPoint.Parse(DefaultBind);

    /// <summary>Whether <see cref="Bind"/> was configured: a default port another run holds is replaced by a free one (said in one line), a configured one is an error.</summary>
    public bool BindConfigured { get; init; }

    /// <summary>An OpenTelemetry collector the metrics are also pushed to (OTLP), or null.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Parses the keys of <paramref name="run"/>; each problem is one line naming the key.</summary>
    public static HttpSettings Parse(Settings run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var bind = run.OptionalText("http.bind");
        var endpoint = IPEndPoint.Parse(DefaultBind);
        if (bind is not null && (!IPEndPoint.TryParse(bind, out endpoint!) || !bind.Contains(':', StringComparison.Ordinal)))
        {
            throw run.Problem("http.bind", $"= '{bind}' is not IP:PORT (e.g. \"127.0.0.1:8470\"; port 0 picks a free one)");
        }
        var otlp = run.OptionalText("metrics.otlp-endpoint");
        Uri? otlpUri = null;
        if (otlp is not null && (!Uri.TryCreate(otlp, UriKind.Absolute, out otlpUri) || otlpUri.Scheme is not ("http" or "https")))
        {
            throw run.Problem("metrics.otlp-endpoint", $"= '{otlp}' is not an http(s) URL (e.g. \"http://127.0.0.1:4317\")");
        }
        return new HttpSettings { Bind = endpoint, BindConfigured = bind is not null, OtlpEndpoint = otlpUri };
    }
}
