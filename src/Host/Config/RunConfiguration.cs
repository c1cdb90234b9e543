using EvolverActors.Actors.Run;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Tasks;

namespace EvolverActors.Host.Config;

/// <summary>
/// One run's whole configuration, typed: the service settings, the population, the task (how the built-in evaluator
/// scores; optional with an external evaluator) and the evaluator. Parsed once from <c>evolver.run</c>; demo,
/// experiment and init build it as a record (docs/configuration.md lists every key).
/// </summary>
internal sealed record RunConfiguration
{
    public const string Section = "evolver.run";

    /// <summary>Where it came from (a file path), for messages.</summary>
    public required string Source { get; init; }
    public required RunSettings Settings { get; init; }
    public required PopulationSpec Population { get; init; }
    public required EvaluatorSpec Evaluator { get; init; }

    /// <summary>The task: a built-in name, a task file, or an inline section; null with an external evaluator that needs none.</summary>
    public TaskReference? Task { get; init; }

    /// <summary>The simulated pseudo-task's options (service benchmarks), or null.</summary>
    public SimulationOptions? Simulation { get; init; }

    /// <summary>Everything that changes results, for the resume fingerprint: service settings, task, evaluator and data.</summary>
    public IReadOnlyDictionary<string, string> Identity(IEvaluationTask? task)
    {
        var identity = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Settings.Identity())
        {
            identity[key] = value;
        }
        foreach (var (key, value) in Evaluator.Identity())
        {
            identity[$"evaluator.{key}"] = value;
        }
        foreach (var (key, value) in task?.Identity ?? new Dictionary<string, string>())
        {
            identity[$"task.{key}"] = value;
        }
        identity["population.quick"] = Population.Quick ? "on" : "off";
        identity["population.data-seed"] = Population.DataSeed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "zoo";
        if (Simulation is { } simulation)
        {
            identity["simulation"] = simulation.ToString();
        }
        return identity;
    }

    /// <summary>Reads a run config file: HOCON → settings tree → this record; unknown keys are refused.</summary>
    public static RunConfiguration Load(string path) => Parse(HoconSettings.LoadFile(path, "run config"));

    public static RunConfiguration Parse(Settings root)
    {
        if (!root.Has(Section))
        {
            throw new EvolverException($"{root.Source}: has no '{Section}' section");
        }
        var c = root.Section(Section);

        var task = TaskReference.Parse(c);
        var simulated = task is { Name: SimulationSettings.Task };
        var evaluator = EvaluatorSpec.Parse(c.Section("evaluator"));
        var population = PopulationSpec.Parse(c.Section("population"));
        var simulation = simulated ? SimulationSettings.Parse(c.Section("simulation")) : null;
        if (!simulated)
        {
            c.MarkOpaque("simulation");
            if (c.Has("simulation"))
            {
                throw c.Problem("simulation", "is only for task = simulated");
            }
        }
        if (task is null && evaluator.Kind == EvaluatorKind.Builtin)
        {
            throw c.Problem("task", "is required with the built-in evaluator (or set evaluator.kind = worker | command | http)");
        }
        var settings = RunSettings.Parse(c, task?.DisplayName ?? $"external:{evaluator.Kind.ToString().ToLowerInvariant()}");
        if (evaluator.Kind == EvaluatorKind.Builtin && !simulated)
        {
            foreach (var device in settings.Devices.Where(d => d.StartsWith("cuda", StringComparison.Ordinal)))
            {
                if (!TorchSharp.torch.cuda.is_available())
                {
                    throw c.Problem("evaluators.devices", $"has '{device}', but CUDA is not available in this build (build with -p:TorchBackend=cuda on a GPU host, or use an external worker evaluator)");
                }
            }
        }
        if (settings.Guard.Enabled && simulated)
        {
            throw c.Problem("acceptance.guard-fraction", "needs dev data to hold a guard out of: not with task = simulated");
        }
        if (settings.Search.Enabled && simulated)
        {
            throw c.Problem("search.method", "= cma-es merges real weights: not with task = simulated");
        }
        if (settings.Guard.Enabled && evaluator.IsExternal && !evaluator.Splits.Contains(PopulationFitness.GuardSplit, StringComparer.Ordinal))
        {
            throw c.Problem("acceptance.guard-fraction",
                $"needs the evaluator to score a '{PopulationFitness.GuardSplit}' split: an external evaluator holds its own data, so hold the guard out of dev in your harness and list it in evaluator.splits");
        }
        root.RequireAllKnown(); // also refuses keys beside evolver.run
        return new RunConfiguration
        {
            Source = root.Source,
            Settings = settings,
            Population = population,
            Evaluator = evaluator,
            Task = task,
            Simulation = simulation,
        };
    }
}

/// <summary>How a run names its task: a built-in task name, a task file, or an inline section.</summary>
internal sealed record TaskReference(string? Name, string? File, Settings? Inline)
{
    public string DisplayName => Name ?? (File is not null ? Path.GetFileNameWithoutExtension(File) : Inline?.Text("kind", "inline") ?? "inline");

    public static TaskReference? Parse(Settings run)
    {
        if (!run.Has("task"))
        {
            run.MarkOpaque("task");
            return null;
        }
        if (run.IsSection("task"))
        {
            var inline = run.Section("task");
            run.MarkOpaque("task");
            return new TaskReference(null, null, inline);
        }
        var text = run.RequiredText("task");
        return LooksLikePath(text) ? new TaskReference(null, Path.GetFullPath(text), null) : new TaskReference(text, null, null);
    }

    private static bool LooksLikePath(string text) =>
        text.Contains('/', StringComparison.Ordinal) || text.EndsWith(".conf", StringComparison.OrdinalIgnoreCase);

    /// <summary>The typed task (checks every key of a task file or section).</summary>
    public IEvaluationTask Resolve(bool quick) => Inline is not null
        ? TaskConfigs.FromSection(Inline, quick)
        : TaskConfigs.Load(File ?? Name!, quick);
}
