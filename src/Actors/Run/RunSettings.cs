using System.Globalization;
using System.Text.RegularExpressions;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Operators;
using HoconConfig = Akka.Configuration.Config;

namespace EvolverActors.Actors.Run;

/// <summary>What an accepted offspring has to beat (DESIGN.md §1).</summary>
public enum FitnessMode
{
    /// <summary>Each member's own dev score; the output is the best member.</summary>
    Individual,

    /// <summary>The dev score of the merged population X(population); the output is X(population).</summary>
    Merged,
}

/// <summary>How work flows (DESIGN.md §2).</summary>
public enum Schedule
{
    /// <summary>No barrier: evaluators pull offspring as they finish.</summary>
    SteadyState,

    /// <summary>The reference loop's lockstep: one offspring per slot, then a barrier, then the next generation.</summary>
    Generational,
}

/// <summary>One run's settings, parsed once from HOCON (<c>evolver.run</c>); keys mirror the properties.</summary>
public sealed record RunSettings
{
    public required string Task { get; init; }
    public required string Zoo { get; init; }
    public FitnessMode Mode { get; init; } = FitnessMode.Merged;
    public string MergeMethod { get; init; } = "average";
    public IReadOnlyDictionary<string, string> MergeParameters { get; init; } = new Dictionary<string, string>();
    public Schedule Schedule { get; init; } = Schedule.SteadyState;
    public string Operator { get; init; } = "evolver";
    public IReadOnlyDictionary<string, string> OperatorParameters { get; init; } = new Dictionary<string, string>();
    public BreedingSettings Breeding { get; init; } = new();
    public ulong Seed { get; init; } = 1;

    /// <summary>Offspring a breeder keeps built ahead of demand (the bounded queue of work pulling).</summary>
    public int QueueCapacity { get; init; } = 2;
    public IReadOnlyList<string> Devices { get; init; } = ["cpu"];
    public int MaxRetries { get; init; } = 3;

    /// <summary>
    /// Scores in a row an evaluator may fail before it is retired (a success resets the count): it takes no more work,
    /// its in-flight offspring go to the others, and a run with no healthy evaluator left ends (exit status 5).
    /// </summary>
    public int MaxConsecutiveFailures { get; init; } = 5;

    /// <summary>Scored offspring awaiting the steward's decision that one evaluator may hold (each is a weight set in memory).</summary>
    public int MaxUndecided { get; init; } = 2;
    public long MaxEvaluations { get; init; } = 100;
    public TimeSpan? MaxWallTime { get; init; }
    public double? TargetScore { get; init; }

    /// <summary>Stop after this many evaluations without an acceptance (0 = never).</summary>
    public int Patience { get; init; }
    public int SnapshotEvery { get; init; } = 50;

    /// <summary>The settings that define a run: resuming with any of them changed is refused.</summary>
    public IReadOnlyDictionary<string, string> Identity() => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["task"] = Task,
        ["fitness.mode"] = Mode.ToString().ToLowerInvariant(),
        ["fitness.merge-method"] = Mode == FitnessMode.Merged ? MergeMethod : "-",
        ["fitness.merge-params"] = string.Join(",", MergeParameters.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")),
        ["schedule"] = Schedule == Schedule.SteadyState ? "steady-state" : "generational",
        ["breeding.operator"] = Operator,
        ["breeding.f"] = Breeding.F.ToString(CultureInfo.InvariantCulture),
        ["breeding.cr"] = Breeding.CR.ToString(CultureInfo.InvariantCulture),
        ["breeding.crossover"] = Breeding.Crossover.ToString().ToLowerInvariant(),
        ["breeding.j-rand"] = Breeding.GuaranteeJRand ? "on" : "off",
        ["breeding.granularity"] = Breeding.Granularity.ToString().ToLowerInvariant(),
        ["breeding.exclude"] = Breeding.Exclude?.ToString() ?? "",
        ["breeding.seed"] = Seed.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Parses <c>evolver.run</c>; every problem is one line naming the key.</summary>
    public static RunSettings Parse(HoconConfig root, string source)
    {
        if (!root.HasPath("evolver.run"))
        {
            throw new EvolverException($"{source}: has no 'evolver.run' section");
        }
        var c = root.GetConfig("evolver.run");
        string Require(string key) => c.HasPath(key) && !string.IsNullOrWhiteSpace(c.GetString(key))
            ? c.GetString(key)
            : throw new EvolverException($"{source}: evolver.run.{key} is required");

        var op = c.GetString("breeding.operator", "evolver");
        var operatorParameters = Strings(c, "breeding.operator-params");
        var mutation = OperatorRegistry.Get(op, operatorParameters);
        var breeding = new BreedingSettings
        {
            F = c.GetDouble("breeding.f", 0.5),
            CR = c.GetDouble("breeding.cr", 0.5),
            Crossover = BreedingSettings.ParseCrossover(c.GetString("breeding.crossover", "binomial")),
            GuaranteeJRand = c.GetBoolean("breeding.j-rand", false),
            Granularity = BreedingSettings.ParseGranularity(c.GetString("breeding.granularity", "element")),
            Exclude = Regex(c.GetString("breeding.exclude", ""), source),
            Space = BreedingSettings.ParseSpace(c.GetString("breeding.space", "raw")),
        }.Validated(mutation);
        if (breeding.Space == WeightSpace.TaskVector)
        {
            throw new EvolverException($"{source}: evolver.run.breeding.space = task-vector is not supported by the service yet (every built-in operator gives the same child in raw space)");
        }

        var mode = c.GetString("fitness.mode", "merged").ToLowerInvariant() switch
        {
            "merged" => FitnessMode.Merged,
            "individual" => FitnessMode.Individual,
            var other => throw new EvolverException($"{source}: evolver.run.fitness.mode '{other}' is unknown: use merged or individual"),
        };
        var method = c.GetString("fitness.merge-method", "average");
        if (mode == FitnessMode.Merged && !IncrementalMerge.SupportedMethods.Contains(method))
        {
            throw new EvolverException($"{source}: evolver.run.fitness.merge-method '{method}' has no incremental update: use {string.Join(", ", IncrementalMerge.SupportedMethods)}");
        }
        var schedule = c.GetString("schedule", "steady-state").ToLowerInvariant() switch
        {
            "steady-state" => Schedule.SteadyState,
            "generational" => Schedule.Generational,
            var other => throw new EvolverException($"{source}: evolver.run.schedule '{other}' is unknown: use steady-state or generational"),
        };
        var devices = c.HasPath("evaluators.devices") ? c.GetStringList("evaluators.devices").ToList() : ["cpu"];
        if (devices.Count == 0)
        {
            throw new EvolverException($"{source}: evolver.run.evaluators.devices lists no device");
        }
        var settings = new RunSettings
        {
            Task = Require("task"),
            Zoo = Require("population.zoo"),
            Mode = mode,
            MergeMethod = method,
            MergeParameters = Strings(c, "fitness.merge-params"),
            Schedule = schedule,
            Operator = op,
            OperatorParameters = operatorParameters,
            Breeding = breeding,
            Seed = (ulong)c.GetLong("breeding.seed", 1),
            QueueCapacity = Positive(c, "breeding.queue", 2, source),
            Devices = devices,
            MaxRetries = c.GetInt("evaluators.max-retries", 3),
            MaxConsecutiveFailures = Positive(c, "evaluators.max-consecutive-failures", 5, source),
            MaxUndecided = Positive(c, "evaluators.max-undecided", 2, source),
            MaxEvaluations = Positive(c, "budget.max-evaluations", 100, source),
            MaxWallTime = c.HasPath("budget.max-wall-time") ? c.GetTimeSpan("budget.max-wall-time") : null,
            TargetScore = c.HasPath("budget.target-score") ? c.GetDouble("budget.target-score") : null,
            Patience = c.GetInt("budget.patience", 0),
            SnapshotEvery = Positive(c, "persistence.snapshot-every", 50, source),
        };
        if (mode == FitnessMode.Merged)
        {
            MergeRegistry.Get(method, settings.MergeParameters); // unknown or out-of-range parameters fail now
        }
        return settings;
    }

    private static int Positive(HoconConfig c, string key, int fallback, string source)
    {
        var value = c.GetInt(key, fallback);
        return value > 0 ? value : throw new EvolverException($"{source}: evolver.run.{key} = {value} must be positive");
    }

    private static Dictionary<string, string> Strings(HoconConfig c, string key)
    {
        if (!c.HasPath(key))
        {
            return new Dictionary<string, string>();
        }
        return c.GetConfig(key).AsEnumerable().ToDictionary(kv => kv.Key, kv => kv.Value.GetString(), StringComparer.Ordinal);
    }

    private static Regex? Regex(string pattern, string source)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return null;
        }
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new EvolverException($"{source}: evolver.run.breeding.exclude '{pattern}' is not a valid regular expression: {e.Message}");
        }
    }
}
