using EvolverActors.Tensors;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;

namespace EvolverActors.Host.Config;

/// <summary>Who scores candidates.</summary>
internal enum EvaluatorKind
{
    /// <summary>In process: a resident model of the task's family on each device.</summary>
    Builtin,

    /// <summary>A long-lived process per device speaking newline-delimited JSON (the fast path for a lab's harness).</summary>
    Worker,

    /// <summary>A process per candidate.</summary>
    Command,

    /// <summary>An HTTP endpoint that takes the request object by POST.</summary>
    Http,
}

/// <summary>
/// <c>evolver.run.evaluator</c>: the built-in evaluator, or an external one (docs/external-evaluators.md). External
/// evaluators get each candidate as a Hugging Face checkpoint written to <see cref="Scratch"/> and deleted after.
/// </summary>
internal sealed record EvaluatorSpec
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    public EvaluatorKind Kind { get; init; } = EvaluatorKind.Builtin;

    /// <summary>worker / command: the program and its arguments (no shell).</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>http: the endpoint.</summary>
    public Uri? Url { get; init; }

    /// <summary>How long one request may take (a worker's first request includes loading its harness).</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Where candidates are written for an external evaluator.</summary>
    public string Scratch { get; init; } = DefaultScratch();

    /// <summary>The splits an external evaluator answers; selection needs dev, test and ood are reported when listed.</summary>
    public IReadOnlyList<string> Splits { get; init; } = ["dev", "test", "ood"];

    public bool IsExternal => Kind != EvaluatorKind.Builtin;

    /// <summary>/dev/shm where it exists (memory, no disk wear), else the temp directory.</summary>
    public static string DefaultScratch() =>
        Directory.Exists("/dev/shm") ? "/dev/shm/evolver" : Path.Combine(Path.GetTempPath(), "evolver-scratch");

    public IReadOnlyDictionary<string, string> Identity() => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["kind"] = Kind.ToString().ToLowerInvariant(),
        ["command"] = string.Join(" ", Command),
        ["url"] = Url?.ToString() ?? "",
    };

    public static EvaluatorSpec Parse(Settings c)
    {
        var kind = c.Choice("kind", EvaluatorKind.Builtin, new Dictionary<string, EvaluatorKind>(StringComparer.Ordinal)
        {
            ["builtin"] = EvaluatorKind.Builtin,
            ["worker"] = EvaluatorKind.Worker,
            ["command"] = EvaluatorKind.Command,
            ["http"] = EvaluatorKind.Http,
        });
        var command = c.OptionalList("command") ?? [];
        var url = c.OptionalText("url");
        var spec = new EvaluatorSpec
        {
            Kind = kind,
            Command = command,
            Timeout = c.Duration("timeout", TimeSpan.FromDays(7)) ?? DefaultTimeout,
            Scratch = c.OptionalText("scratch") is { } scratch ? Path.GetFullPath(scratch) : DefaultScratch(),
            Splits = c.OptionalList("splits") ?? ["dev", "test", "ood"],
        };
        if (!spec.Splits.Contains(PopulationFitness.DevSplit, StringComparer.Ordinal))
        {
            throw c.Problem("splits", "must include dev (selection is on dev)");
        }
        foreach (var split in spec.Splits.Where(s => s is not ("dev" or "test" or "ood" or PopulationFitness.GuardSplit)))
        {
            throw c.Problem("splits", $"has '{split}': splits are dev, guard (with acceptance.guard-fraction), test and ood");
        }
        switch (kind)
        {
            case EvaluatorKind.Worker or EvaluatorKind.Command when command.Count == 0 || string.IsNullOrWhiteSpace(command[0]):
                throw c.Problem("command", $"is required with kind = {kind.ToString().ToLowerInvariant()}: the program and its arguments, e.g. [python3, worker.py]");
            case EvaluatorKind.Http:
                if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    throw c.Problem("url", $"= '{url}' must be an http(s) URL with kind = http");
                }
                spec = spec with { Url = uri };
                break;
            case EvaluatorKind.Builtin when command.Count > 0 || url is not null:
                throw new EvolverException($"{c.Source}: {c.Path}: command and url are for external evaluators: set kind = worker | command | http");
        }
        if (kind != EvaluatorKind.Http && url is not null)
        {
            throw c.Problem("url", "is only for kind = http");
        }
        if (kind == EvaluatorKind.Http && command.Count > 0)
        {
            throw c.Problem("command", "is only for kind = worker | command");
        }
        return spec;
    }
}
