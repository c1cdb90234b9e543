using System.Globalization;
using System.Text.RegularExpressions;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Operators;

namespace EvolverActors.Actors.Run;

/// <summary>What an accepted offspring has to beat (docs/architecture.md §1).</summary>
public enum FitnessMode
{
    /// <summary>Each member's own dev score; the output is the best member.</summary>
    Individual,

    /// <summary>The dev score of the merged population X(population); the output is X(population).</summary>
    Merged,
}

/// <summary>How work flows (docs/architecture.md §2).</summary>
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
    public FitnessMode Mode { get; init; } = FitnessMode.Merged;
    public string MergeMethod { get; init; } = "average";
    public IReadOnlyDictionary<string, string> MergeParameters { get; init; } = new Dictionary<string, string>();
    public Schedule Schedule { get; init; } = Schedule.SteadyState;
    public string Operator { get; init; } = "evolver";
    public IReadOnlyDictionary<string, string> OperatorParameters { get; init; } = new Dictionary<string, string>();
    public BreedingSettings Breeding { get; init; } = new();
    public ulong Seed { get; init; } = 1;

    /// <summary>The evolver operator's chance that x_ref is the best other member (<c>breeding.best-probability</c>):
    /// <c>reference</c> (the default in individual mode) or a constant (default 0).</summary>
    public BestProbabilitySchedule BestProbabilitySchedule { get; init; } = BestProbabilitySchedule.Fixed(0);

    /// <summary>The order of targets (<c>breeding.target-order</c>): fixed (the default in individual mode) or shuffled.</summary>
    public TargetOrder TargetOrder { get; init; } = TargetOrder.Shuffled;

    /// <summary>The offspring a run of <paramref name="slots"/> slots may score: the evaluation budget less the initial
    /// scoring (one evaluation per member in individual mode, one of the merge in merged mode).</summary>
    public long OffspringBudget(int slots) => Math.Max(0, MaxEvaluations - (Mode == FitnessMode.Individual ? slots : 1));

    /// <summary>The best-probability for the run's 0-based <paramref name="offspringIndex"/>-th offspring
    /// (for <see cref="ParentSelection.Pick(MutationOperator, int, IReadOnlyList{double}, Random, double)"/>), over
    /// <see cref="OffspringBudget"/>.</summary>
    public double BestProbabilityFor(long offspringIndex, int slots) =>
        BestProbabilitySchedule.For(offspringIndex, slots, OffspringBudget(slots));

    /// <summary>The slot the run's 0-based <paramref name="offspringIndex"/>-th offspring targets under
    /// <see cref="TargetOrder"/> (fixed: n mod N; shuffled: a per-round permutation from the run seed).</summary>
    public int TargetFor(long offspringIndex, int slots) => TargetSequence.TargetFor(TargetOrder, Seed, offspringIndex, slots);

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
    public int MaxUndecided { get; init; } = 64;
    public long MaxEvaluations { get; init; } = 100;
    public TimeSpan? MaxWallTime { get; init; }
    public double? TargetScore { get; init; }

    /// <summary>Stop after this many evaluations without an acceptance (0 = never).</summary>
    public int Patience { get; init; }
    public int SnapshotEvery { get; init; } = 50;

    /// <summary>The journal's PostgreSQL database (<c>persistence.postgresql</c>), or null: <c>journal.db</c> in the run directory.</summary>
    public Storage.JournalConnection? JournalDatabase { get; init; }

    /// <summary>Where this node's remoting listens and the cluster's secret (<c>cluster.*</c>); not part of the run's identity.</summary>
    public ClusterSettings Cluster { get; init; } = new();

    /// <summary>The node's HTTP endpoint: page, metrics, control API (docs/architecture.md §6).</summary>
    public HttpSettings Http { get; init; } = new();

    /// <summary>The guard against dev overfitting (off by default).</summary>
    public GuardSettings Guard { get; init; } = new();

    /// <summary>An evolved-coefficient search instead of breeding (off by default).</summary>
    public SearchSettings Search { get; init; } = new();

    /// <summary>Acceptances between population snapshots (materialized members on disk; they bound a rebuild).</summary>
    public int PopulationSnapshotEvery { get; init; } = 20;

    /// <summary>
    /// Steady-state: offspring n is bred from the population after decision n − Lag (fixed, so lineages do not depend
    /// on how many evaluators there are or how fast they are; it also bounds how far ahead work is issued).
    /// </summary>
    public int Lag { get; init; } = 32;

    /// <summary>Bytes of weights a node keeps resident beyond what is in use (0: unbounded; members pin their weights).</summary>
    public long MaxResidentBytes { get; init; }

    /// <summary>
    /// How many recent populations the ledger keeps for breeders (what offspring may still be bred from, see
    /// <see cref="BreedBase"/>): an undecided offspring n > decided is bred from decision n − Lag in steady state, from its
    /// generation's start (at most N back) in generational. Their weights are kept by snapshots, so no more than needed.
    /// </summary>
    public int ViewWindow(int slots) => (Schedule == Schedule.Generational ? Math.Max(Lag, slots) : Lag) + 1;

    /// <summary>The decision count whose population offspring <paramref name="sequence"/> is bred from (docs/architecture.md §2).</summary>
    public long BreedBase(long sequence, int slots) => Schedule == Schedule.Generational
        ? sequence / slots * slots
        : Math.Max(0, sequence - Lag);

    /// <summary>The settings that define a run: resuming with any of them changed is refused.</summary>
    public IReadOnlyDictionary<string, string> Identity()
    {
        var identity = BaseIdentity();
        foreach (var (key, value) in Guard.Identity().Concat(Search.Identity()))
        {
            identity[key] = value;
        }
        return identity;
    }

    private SortedDictionary<string, string> BaseIdentity() => new(StringComparer.Ordinal)
    {
        ["task"] = Task,
        ["fitness.mode"] = Mode.ToString().ToLowerInvariant(),
        ["fitness.merge-method"] = Mode == FitnessMode.Merged ? MergeMethod : "-",
        ["fitness.merge-params"] = string.Join(",", MergeParameters.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")),
        ["schedule"] = Schedule == Schedule.SteadyState ? "steady-state" : "generational",
        ["breeding.operator"] = Operator,
        ["breeding.operator-params"] = string.Join(",", OperatorParameters.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")),
        ["breeding.space"] = Breeding.Space.ToString().ToLowerInvariant(),
        ["breeding.f"] = Breeding.F.ToString(CultureInfo.InvariantCulture),
        ["breeding.cr"] = Breeding.CR.ToString(CultureInfo.InvariantCulture),
        ["breeding.crossover"] = Breeding.Crossover.ToString().ToLowerInvariant(),
        ["breeding.j-rand"] = Breeding.GuaranteeJRand ? "on" : "off",
        ["breeding.granularity"] = Breeding.Granularity.ToString().ToLowerInvariant(),
        ["breeding.exclude"] = Breeding.Exclude?.ToString() ?? "",
        ["breeding.seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        ["breeding.lag"] = Schedule == Schedule.SteadyState ? Lag.ToString(CultureInfo.InvariantCulture) : "-",
        ["breeding.best-probability"] = BestProbabilitySchedule.ToString(),
        ["breeding.target-order"] = TargetOrder == TargetOrder.Fixed ? "fixed" : "shuffled",
    };

    /// <summary>Upper bounds that keep a typo from exhausting memory (1 000 evaluators, a queue of 20 000 offspring).</summary>
    public const int MaxDevices = 64;
    public const int MaxQueue = 256;
    public const long MaxBudget = 1_000_000_000;

    /// <summary>
    /// Parses the service settings of <c>evolver.run</c> (breeding, fitness, schedule, evaluators, budget,
    /// persistence, cluster); the host parses <c>task</c>, <c>population</c>, <c>evaluator</c> and <c>simulation</c>, which are
    /// left marked for it. Every problem is one line naming the key.
    /// </summary>
    public static RunSettings Parse(Settings c, string task)
    {
        var op = c.Text("breeding.operator", "evolver");
        var operatorParameters = c.Map("breeding.operator-params");
        var mutation = OperatorRegistry.Get(op, operatorParameters);
        var breeding = new BreedingSettings
        {
            F = c.Double("breeding.f", 0.5),
            CR = c.Double("breeding.cr", 0.5, 0, 1),
            Crossover = c.Choice("breeding.crossover", CrossoverKind.Binomial, Choices<CrossoverKind>(("binomial", CrossoverKind.Binomial), ("exponential", CrossoverKind.Exponential))),
            GuaranteeJRand = c.Bool("breeding.j-rand", false),
            Granularity = c.Choice("breeding.granularity", Granularity.Element,
                Choices<Granularity>(("element", Granularity.Element), ("tensor", Granularity.Tensor), ("layer", Granularity.Layer))),
            Exclude = Regex(c, "breeding.exclude"),
            Space = c.Choice("breeding.space", WeightSpace.Raw, Choices<WeightSpace>(("raw", WeightSpace.Raw), ("task-vector", WeightSpace.TaskVector))),
        };
        try
        {
            breeding = breeding.Validated(mutation);
        }
        catch (EvolverException e)
        {
            throw new EvolverException($"{c.Source}: {c.FullKey("breeding")}: {e.Message}");
        }
        if (breeding.Space == WeightSpace.TaskVector)
        {
            throw c.Problem("breeding.space", "= task-vector is not supported by the service yet (every built-in operator gives the same child in raw space)");
        }

        var mode = c.Choice("fitness.mode", FitnessMode.Merged, Choices<FitnessMode>(("merged", FitnessMode.Merged), ("individual", FitnessMode.Individual)));
        var bestProbability = BestProbability(c, mutation, operatorParameters, mode);
        var targetOrder = c.Choice("breeding.target-order", mode == FitnessMode.Individual ? TargetOrder.Fixed : TargetOrder.Shuffled,
            Choices<TargetOrder>(("fixed", TargetOrder.Fixed), ("shuffled", TargetOrder.Shuffled)));
        var method = c.Text("fitness.merge-method", "average").ToLowerInvariant();
        if (mode == FitnessMode.Merged && !IncrementalMerge.SupportedMethods.Contains(method))
        {
            throw c.Problem("fitness.merge-method", $"= '{method}' has no incremental update: use {string.Join(", ", IncrementalMerge.SupportedMethods)}");
        }
        var mergeParameters = c.Map("fitness.merge-params");
        var schedule = c.Choice("schedule", Schedule.SteadyState, Choices<Schedule>(("steady-state", Schedule.SteadyState), ("generational", Schedule.Generational)));
        var devices = c.OptionalList("evaluators.devices") ?? ["cpu"];
        if (devices.Count == 0 || devices.Count > MaxDevices)
        {
            throw c.Problem("evaluators.devices", $"lists {devices.Count} devices: give 1 to {MaxDevices} (one evaluator per entry)");
        }
        foreach (var device in devices)
        {
            if (!IsDeviceName(device))
            {
                throw c.Problem("evaluators.devices", $"has '{device}', which is not a device: use cpu, cuda or cuda:N (quoted in HOCON lists: [\"cuda:0\", \"cuda:1\"])");
            }
        }
        var settings = new RunSettings
        {
            Task = task,
            Mode = mode,
            MergeMethod = method,
            MergeParameters = mergeParameters,
            Schedule = schedule,
            Operator = op,
            OperatorParameters = operatorParameters,
            Breeding = breeding,
            Seed = (ulong)c.Long("breeding.seed", 1, 0),
            BestProbabilitySchedule = bestProbability,
            TargetOrder = targetOrder,
            QueueCapacity = c.Int("breeding.queue", 2, 1, MaxQueue),
            Devices = [.. devices.Select(d => d.ToLowerInvariant())],
            MaxRetries = c.Int("evaluators.max-retries", 3, 1, 100),
            MaxConsecutiveFailures = c.Int("evaluators.max-consecutive-failures", 5, 1, 1000),
            MaxUndecided = c.Int("evaluators.max-undecided", 64, 1, MaxQueue),
            MaxEvaluations = c.Long("budget.max-evaluations", 100, 1, MaxBudget),
            MaxWallTime = c.Duration("budget.max-wall-time", TimeSpan.FromDays(3650)),
            TargetScore = c.OptionalDouble("budget.target-score"),
            Patience = c.Int("budget.patience", 0, 0),
            SnapshotEvery = c.Int("persistence.snapshot-every", 50, 1, 1_000_000),
            PopulationSnapshotEvery = c.Int("persistence.population-snapshot-every", 20, 1, 1_000_000),
            JournalDatabase = c.OptionalText("persistence.postgresql") is { } postgres
                ? Storage.JournalConnection.PostgreSql(postgres, $"{c.Source}: {c.FullKey("persistence.postgresql")}")
                : null,
            Lag = c.Int("breeding.lag", 32, 0, MaxQueue),
            MaxResidentBytes = c.OptionalBytes("memory.max-resident") ?? 0,
            Cluster = ClusterSettings.Parse(c),
            Http = HttpSettings.Parse(c),
            Guard = GuardSettings.Parse(c),
            Search = SearchSettings.Parse(c),
        };
        settings.Search.Validate(c, settings);
        if (mode == FitnessMode.Merged)
        {
            try
            {
                MergeRegistry.Get(method, settings.MergeParameters); // unknown or out-of-range parameters fail now
            }
            catch (EvolverException e)
            {
                throw new EvolverException($"{c.Source}: {c.FullKey("fitness.merge-params")}: {e.Message}");
            }
        }
        return settings;
    }

    /// <summary>cpu, cuda or cuda:N (whether CUDA is there is checked where the evaluator kind is known).</summary>
    public static bool IsDeviceName(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower is "cpu" or "cuda" || (lower.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(lower[5..], out var index) && index >= 0);
    }

    /// <summary>
    /// <c>breeding.best-probability</c>: <c>reference</c> or a number in [0, 1], evolver only. Absent: the legacy
    /// <c>operator-params.best-probability</c> constant if given, else <c>reference</c> in individual mode (as the
    /// original Evolver implementation) and 0 in merged mode.
    /// </summary>
    private static BestProbabilitySchedule BestProbability(Settings c, MutationOperator mutation,
        IReadOnlyDictionary<string, string> operatorParameters, FitnessMode mode)
    {
        const string Key = "breeding.best-probability";
        var text = c.OptionalText(Key);
        var legacy = operatorParameters.ContainsKey("best-probability");
        if (mutation is not EvolverOperator evolver)
        {
            return text is null ? BestProbabilitySchedule.Fixed(0) : throw c.Problem(Key, $"applies to the evolver operator only, not '{mutation.Name}'");
        }
        if (text is null)
        {
            return legacy ? BestProbabilitySchedule.Fixed(evolver.BestProbability)
                : mode == FitnessMode.Individual ? BestProbabilitySchedule.Reference : BestProbabilitySchedule.Fixed(0);
        }
        if (legacy)
        {
            throw c.Problem(Key, "is also given as breeding.operator-params.best-probability: give it once");
        }
        try
        {
            return BestProbabilitySchedule.Parse(text);
        }
        catch (EvolverException)
        {
            throw c.Problem(Key, $"= '{text}' is neither 'reference' nor a number in [0, 1]");
        }
    }

    private static Dictionary<string, T> Choices<T>(params (string Name, T Value)[] choices) =>
        choices.ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal);

    private static Regex? Regex(Settings c, string key)
    {
        var pattern = c.Text(key, "");
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
            throw c.Problem(key, $"= '{pattern}' is not a valid regular expression: {e.Message}");
        }
    }
}
