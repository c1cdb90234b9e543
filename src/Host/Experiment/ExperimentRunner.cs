using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Experiment;

/// <summary>What <c>evolver experiment</c> was asked to do.</summary>
internal sealed record ExperimentRequest(string Recipe, int Seeds, bool Quick, string OutDirectory, string RunsRoot, int? Evaluations, string Command,
    bool KeepRuns = false)
{
    /// <summary>The wall-time cap per Evolver run (<c>--run-minutes</c>).</summary>
    public int RunMinutes { get; init; } = ExperimentRunner.DefaultRunMinutes;
}

/// <summary>
/// Per seed: the zoo's individual models, the dev-tuned baseline merges, four steady-state Evolver runs through the service
/// and the first of them again generational;
/// then mean ± std over seeds as JSON, Markdown and PNG charts. Selection uses dev only.
/// </summary>
internal static class ExperimentRunner
{
    /// <summary>The dev grids (DESIGN: users tune a merge's few knobs on dev).</summary>
    public static IReadOnlyList<(string Method, IReadOnlyList<Dictionary<string, string>> Grid)> BaselineGrids { get; } =
    [
        ("average", [[]]),
        ("fisher", [[]]),
        ("regmean", [P(("alpha", "0.5")), P(("alpha", "0.9"))]),
        ("task-arithmetic", [P(("lambda", "0.3")), P(("lambda", "0.5")), P(("lambda", "0.7")), P(("lambda", "1.0"))]),
        ("ties", [.. from d in new[] { "0.2", "0.5" } from l in new[] { "0.5", "1.0" } select P(("density", d), ("lambda", l))]),
        ("dare", [.. from d in new[] { "0.3", "0.5" } from l in new[] { "0.5", "1.0" } select P(("drop-rate", d), ("lambda", l))]),
    ];

    /// <summary>
    /// The default safety cap per Evolver run (<c>--run-minutes</c>): a run that stalls ends by wall time and is reported
    /// with the evaluations it used, and the log says it stopped short.
    /// </summary>
    public const int DefaultRunMinutes = 4;

    /// <summary>
    /// The evolved-coefficient merge (mergekit-evolve's approach): CMA-ES over per-model, per-layer <c>linear</c> weights,
    /// scored on dev, with the merged Evolver run's budget (docs/architecture.md §1, "Evolved merge coefficients").
    /// </summary>
    public const string EvolvedMerge = "evolved-linear";

    public static readonly string[] EvolverMethods =
    [
        "evolver-individual", "evolver+average", "evolver+fisher", "evolver+regmean",
        "evolver-individual" + PairedComparison.GuardSuffix, "evolver+average" + PairedComparison.GuardSuffix,
        PairedComparison.EvolverOf(EvolvedMerge),
    ];

    /// <summary>
    /// The guard the <c>+guard</c> variants run with (docs/architecture.md §1, "The guard"): 30 % of dev held out, no fall
    /// allowed, and the best-guard population as the output.
    /// </summary>
    public static readonly GuardSettings ExperimentGuard = new() { Fraction = 0.3, Tolerance = 0, Output = OutputChoice.BestGuard };

    /// <summary>The Evolver configuration also run generational, to compare the schedules at equal budget.</summary>
    public const string ScheduleMethod = "evolver-individual";

    private const string SteadyState = "steady-state";
    private const string Generational = "generational";

    public static async Task<ExperimentReport> RunAsync(ExperimentRequest request, TextWriter log)
    {
        var results = new List<SeedResult>();
        var generational = new List<SeedResult>();
        var curves = new List<Curve>();
        var metric = "";
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var checkpoint = SeedCheckpoint.For(request);
        // A run stops gracefully on SIGTERM or Ctrl-C and returns; the experiment must then end too, not go on to the
        // next run. This handler only notes the signal: outside a run nothing cancels it, so the process ends at once.
        string? signal = null;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => signal = "SIGTERM");
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => signal = "Ctrl-C");
        void StopIfSignalled(int seed)
        {
            if (signal is not null)
            {
                throw new Tensors.EvolverException(
                    $"experiment stopped by {signal} during seed {seed}: finished seeds are kept in {checkpoint.Directory}; the same command resumes at seed {seed}");
            }
        }
        for (var seed = 0; seed < request.Seeds; seed++)
        {
            var (done, why) = checkpoint.Load(seed);
            if (done is not null)
            {
                log.WriteLine($"seed {seed}: finished earlier, reusing {checkpoint.Directory}/seed-{seed}.json (delete it to run the seed again)");
                results.AddRange(done.Results);
                generational.AddRange(done.Generational);
                curves.AddRange(done.Curves);
                metric = metric.Length > 0 ? metric : MetricOf(request, seed);
                continue;
            }
            if (why is not null)
            {
                log.WriteLine($"seed {seed}: running it again: {why}");
            }
            var seedStart = (Results: results.Count, Generational: generational.Count, Curves: curves.Count);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var zoo = ZooCommand.DefaultDirectory(request.Recipe, seed, request.Quick);
            if (!File.Exists(Path.Combine(zoo, Tensors.Zoo.ZooManifest.FileName)))
            {
                log.WriteLine($"seed {seed}: building the zoo at {zoo}");
                ZooCommand.BuildZoo(request.Recipe, zoo, seed, request.Quick, taskFile: null, dataDir: null, CPU, log);
            }
            var population = RunPopulation.FromZoo(zoo);
            metric = population.Manifest!.Metric;
            log.WriteLine($"seed {seed}: baselines on {zoo}");
            results.AddRange(Baselines(population, seed, request.Quick, log));
            // The evolved-coefficient search is a run of the service (search.method = cma-es); what it found is where
            // the Evolver run started from it begins.
            var (searched, searchCurve, found) = await EvolveAsync(request, population, seed, EvolvedMerge, SteadyState, stamp, log, LinearOptions.Default, () => StopIfSignalled(seed))
                .ConfigureAwait(false);
            results.Add(searched);
            curves.Add(searchCurve);
            var evolved = found ?? LinearOptions.Default;
            foreach (var method in EvolverMethods)
            {
                var (result, curve, _) = await EvolveAsync(request, population, seed, method, SteadyState, stamp, log, evolved, () => StopIfSignalled(seed)).ConfigureAwait(false);
                results.Add(result);
                curves.Add(curve);
            }
            var (lockstep, lockstepCurve, _) = await EvolveAsync(request, population, seed, ScheduleMethod, Generational, stamp, log, evolved, () => StopIfSignalled(seed)).ConfigureAwait(false);
            generational.Add(lockstep with { Method = $"{ScheduleMethod} ({Generational})" });
            curves.Add(lockstepCurve);
            var saved = checkpoint.Save(seed, results[seedStart.Results..], generational[seedStart.Generational..], curves[seedStart.Curves..]);
            log.WriteLine($"seed {seed}: finished in {watch.Elapsed.TotalMinutes:F1} min (zoo build included when it ran); kept in {saved}");
        }
        var steady = results.Where(r => r.Method == ScheduleMethod).Select(r => r with { Method = $"{ScheduleMethod} ({SteadyState})" });
        var report = new ExperimentReport(request.Recipe, [.. Enumerable.Range(0, request.Seeds)], metric, request.Command,
            ExperimentReport.Summarize(results), ExperimentReport.Summarize([.. steady, .. generational]), curves, [.. results, .. generational],
            PairedComparison.Compare(results, [.. BaselineGrids.Select(g => g.Method), EvolvedMerge], EvolvedMerge));
        Write(report, request.OutDirectory, log);
        return report;
    }

    /// <summary>The metric of a seed whose results were kept: its zoo's, or the task's when the zoo is gone.</summary>
    private static string MetricOf(ExperimentRequest request, int seed)
    {
        var zoo = ZooCommand.DefaultDirectory(request.Recipe, seed, request.Quick);
        return File.Exists(Path.Combine(zoo, Tensors.Zoo.ZooManifest.FileName))
            ? Tensors.Zoo.ZooManifest.Load(zoo).Metric
            : Tensors.Tasks.TaskSettings.Name(Config.TaskConfigs.Load(request.Recipe, request.Quick).Metric);
    }

    /// <summary>Writes &lt;recipe&gt;.json, .md and the PNG charts; returns the files written.</summary>
    public static IReadOnlyList<string> Write(ExperimentReport report, string directory, TextWriter log)
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, report.Recipe);
        var seeds = $"{report.Seeds.Count} seed(s)";
        File.WriteAllText(stem + ".json", report.ToJson());
        var markdown = report.ToMarkdown();
        File.WriteAllText(stem + ".md", markdown);
        ExperimentCharts.SaveBars(stem + "-bars.png", $"{report.Recipe}: test and ood, mean ± std over {seeds}", report.Metric, report.Methods);
        ExperimentCharts.SaveForest(stem + "-paired.png", $"{report.Recipe}: a − b paired by seed, mean and 95 % CI ({seeds})", report.Metric, report.Paired);
        var steady = report.Curves.Where(c => c.Schedule == SteadyState).ToList();
        ExperimentCharts.SaveCurves(stem + "-curves.png", $"{report.Recipe}: Evolver runs (steady-state), {seeds}", report.Metric,
            "evaluations", steady, c => c.Method, p => p.Evaluations);
        var compared = report.Curves.Where(c => c.Method == ScheduleMethod).ToList();
        ExperimentCharts.SaveCurves(stem + "-schedules-evaluations.png", $"{report.Recipe}: {ScheduleMethod}, steady-state vs generational",
            report.Metric, "evaluations", compared, c => c.Schedule, p => p.Evaluations);
        ExperimentCharts.SaveCurves(stem + "-schedules-wall.png", $"{report.Recipe}: {ScheduleMethod}, steady-state vs generational",
            report.Metric, "seconds after the initial scoring", compared, c => c.Schedule, p => p.Seconds);
        string[] files = [stem + ".json", stem + ".md", stem + "-bars.png", stem + "-paired.png", stem + "-curves.png", stem + "-schedules-evaluations.png", stem + "-schedules-wall.png"];
        log.WriteLine(markdown);
        log.WriteLine("written: " + string.Join(", ", files));
        return files;
    }

    /// <summary>The individual models and each dev-tuned merge.</summary>
    private static List<SeedResult> Baselines(RunPopulation population, int seed, bool quick, TextWriter log)
    {
        var manifest = population.Manifest!;
        var results = manifest.Models.Select(m => new SeedResult("individual:" + m.Name, seed, m.Dev, m.Test, m.Ood, 0, 0, "zoo manifest")).ToList();
        var task = TaskConfigs.Load(manifest.Task, quick);
        var data = task.Load(new TaskLoadContext(manifest.Seed, population.Members[0]));
        var owned = new List<WeightSet>();
        try
        {
            var models = Load(population.Members, owned);
            var baseWeights = Checkpoint.Load(population.Base!);
            owned.Add(baseWeights);
            var fisher = population.Fisher.All(p => p is not null) ? Load([.. population.Fisher.Select(p => p!)], owned) : null;
            var grams = population.Grams.All(p => p is not null) ? Load([.. population.Grams.Select(p => p!)], owned) : null;
            using var first = Checkpoint.Load(population.Members[0], floatType: ScalarType.Float32);
            var skeleton = ModelFamilies.SkeletonFor(task.Family, first, population.Members[0]);
            using var evaluator = new ResidentEvaluator(skeleton, data.Batcher, data.Splits, CPU);
            double Score(WeightSet weights, string split)
            {
                evaluator.Load(weights);
                return evaluator.Evaluate(split).Get(task.Metric);
            }
            var inputs = new MergeInputs { Base = baseWeights, Fisher = fisher, Grams = grams };
            foreach (var (method, grid) in BaselineGrids)
            {
                if ((method == "fisher" && fisher is null) || (method == "regmean" && grams is null))
                {
                    log.WriteLine($"  {method}: skipped, the zoo has no statistics for it");
                    continue;
                }
                var clock = Stopwatch.StartNew();
                WeightSet? bestWeights = null;
                var (best, dev, evaluated) = DevSelection.Best(grid, parameters =>
                {
                    var merged = MergeRegistry.Get(method, parameters).Merge(models, inputs);
                    var score = Score(merged, "dev");
                    if (bestWeights is null || score > Score(bestWeights, "dev"))
                    {
                        bestWeights?.Dispose();
                        bestWeights = merged;
                    }
                    else
                    {
                        merged.Dispose();
                    }
                    return score;
                });
                using (bestWeights)
                {
                    var test = Score(bestWeights!, "test");
                    var ood = Score(bestWeights!, "ood");
                    var detail = best.Count == 0 ? "defaults" : string.Join(",", best.Select(kv => $"{kv.Key}={kv.Value}"));
                    results.Add(new SeedResult(method, seed, dev, test, ood, evaluated, clock.Elapsed.TotalSeconds, detail));
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {method} ({detail}): dev {dev:F4} test {test:F4} ood {ood:F4}"));
                }
            }
            return results;
        }
        finally
        {
            owned.ForEach(w => w.Dispose());
        }
    }

    /// <summary>
    /// One run of the service for <paramref name="method"/>: an Evolver variant, or <see cref="EvolvedMerge"/>, the
    /// evolved-coefficient search (<c>search.method = cma-es</c>, seeded by the experiment's seed); for the search, also
    /// the linear options it found (null: it accepted nothing, so equal weights). <paramref name="evolved"/>: where
    /// <c>evolver+evolved-linear</c> starts (the search itself starts at equal weights: <see cref="LinearOptions.Default"/>).
    /// </summary>
    private static async Task<(SeedResult Result, Curve Curve, LinearOptions? Found)> EvolveAsync(ExperimentRequest request, RunPopulation population, int seed,
        string method, string schedule, string stamp, TextWriter log, LinearOptions evolved, Action stopIfSignalled)
    {
        var search = method == EvolvedMerge;
        var guarded = method.EndsWith(PairedComparison.GuardSuffix, StringComparison.Ordinal);
        var plain = guarded ? method[..^PairedComparison.GuardSuffix.Length] : method;
        var individual = plain == "evolver-individual";
        var budget = request.Evaluations ?? ReferenceBudget(population.Members.Count, individual);
        var mergeMethod = search ? EvolvedMerge : individual ? "average" : plain["evolver+".Length..];
        var runId = $"exp-{stamp}-s{seed}-{method.Replace('+', '-')}" + (schedule == SteadyState ? "" : "-" + schedule);
        var template = RunConfiguration.Load(Path.Combine(AppContext.BaseDirectory, "config", "hocon", "runs", request.Recipe + ".conf"));
        var config = template with
        {
            Population = new PopulationSpec { Zoo = population.ZooDirectory, Quick = request.Quick },
            Settings = template.Settings with
            {
                Mode = individual ? FitnessMode.Individual : FitnessMode.Merged,
                MergeMethod = mergeMethod == EvolvedMerge ? LinearMerge.MethodName : mergeMethod,
                MergeParameters = mergeMethod == EvolvedMerge ? evolved.ToParameters() : template.Settings.MergeParameters,
                Schedule = schedule == SteadyState ? Schedule.SteadyState : Schedule.Generational,
                Breeding = template.Settings.Breeding with { F = 0.5, CR = 0.5 },
                MaxEvaluations = budget,
                MaxWallTime = TimeSpan.FromMinutes(request.RunMinutes),
                Guard = guarded ? ExperimentGuard : new GuardSettings(),
                Search = new SearchSettings { Enabled = search },
                // The search is seeded by the experiment's seed, as its in-process form (EvolvedCoefficients) was.
                Seed = search ? (ulong)seed : template.Settings.Seed,
            },
        };
        log.WriteLine($"seed {seed}: {method} ({schedule}), run '{runId}' ({budget} evaluations)");
        var clock = Stopwatch.StartNew();
        var (exitCode, _) = await RunLauncher.RunAsync(new RunRequest(config, runId, request.RunsRoot, log)).ConfigureAwait(false);
        var wall = clock.Elapsed.TotalSeconds;
        var finished = DateTime.UtcNow;
        // A signal stops the run gracefully with exit code 0; say so before anything reads it as a finished run.
        stopIfSignalled();
        if (exitCode != 0)
        {
            throw new Tensors.EvolverException($"run '{runId}' ended with exit code {exitCode}");
        }
        using var result = await RunResult.BuildAsync(request.RunsRoot, runId).ConfigureAwait(false);
        var curve = new Curve(method, schedule, seed, ProgressOf(result.Report, individual, finished));
        var found = search ? FoundOptions(result) : null;
        var s = result.Scores;
        var state = result.Report.State;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {method} ({schedule}): dev {s.Dev:F4} test {s.Test:F4} ood {s.Ood:F4}, {state.Evaluations} evaluations, {state.Accepted} accepted, {wall:F1} s"));
        if (!request.KeepRuns)
        {
            // The scores and the curve are in hand; the run's population snapshots hold whole models (hundreds of MB
            // per sentiment run), so the run goes unless it was asked to stay (for lineage, replay or export).
            var run = RunDirectory.Open(request.RunsRoot, runId);
            Directory.Delete(run.Root, recursive: true);
        }
        if (state.Evaluations < budget)
        {
            var why = wall >= request.RunMinutes * 60 ? $"by the {request.RunMinutes}-minute cap (raise --run-minutes)" : "by the recipe config's own stop rule";
            log.WriteLine($"  {method} ({schedule}): stopped at {state.Evaluations} of {budget} evaluations {why}: its budget is not the others'");
        }
        var detail = (search ? "CMA-ES, " : "") + $"{state.Accepted} accepted" + (result.Version != state.Version ? $", output v{result.Version} of {state.Version}" : "")
            + (state.Evaluations < budget ? $", stopped at {state.Evaluations} of {budget}" : "");
        return (new SeedResult(method, seed, s.Dev, s.Test, s.Ood, state.Evaluations, wall, detail), curve, found);
    }

    /// <summary>The linear merge options of a search run's best merge, or null when it accepted none (equal weights).</summary>
    private static LinearOptions? FoundOptions(RunResult result) =>
        result.Report.Recipes.LastOrDefault(r => r.Recipe.IsCoefficients) is { } best ? CoefficientChild.Options(best.Recipe, result.Fused.Names) : null;

    /// <summary>
    /// The reference loop's 15 generations of N offspring, plus the initial scoring the budget also counts:
    /// N member scores in individual mode, the one merged score S in merged mode (DESIGN's 1 + 15·N).
    /// </summary>
    internal static int ReferenceBudget(int members, bool individual) => (individual ? members : 1) + 15 * members;

    /// <summary>
    /// The best dev score so far from the ledger: at the initial scoring, at each accepted offspring (in evaluation
    /// order) and at the end. Merged mode tracks the population's merged score, individual mode the best member.
    /// Seconds count from the initial scoring, so process start-up and JIT warm-up (larger for a process's first
    /// run) do not tilt a comparison between runs.
    /// </summary>
    internal static List<CurvePoint> ProgressOf(LedgerReport ledger, bool individual, DateTime finished)
    {
        var start = ledger.Starts[0];
        double Since(DateTime at) => (at - start.At).TotalSeconds;
        var best = individual ? start.SlotScores.Max() : start.PopulationScore ?? double.NaN;
        var points = new List<CurvePoint> { new(start.Evaluations, 0, best) };
        foreach (var accepted in ledger.Lineage.OrderBy(a => a.Evaluation))
        {
            best = Math.Max(best, accepted.Score);
            points.Add(new CurvePoint(accepted.Evaluation, Since(accepted.At), best));
        }
        points.Add(new CurvePoint(ledger.State.Evaluations, Since(finished), best));
        return points;
    }

    private static List<WeightSet> Load(IReadOnlyList<string> paths, List<WeightSet> owned)
    {
        var sets = new List<WeightSet>();
        foreach (var path in paths)
        {
            var set = Checkpoint.Load(path);
            owned.Add(set);
            sets.Add(set);
        }
        return sets;
    }


    private static Dictionary<string, string> P(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
