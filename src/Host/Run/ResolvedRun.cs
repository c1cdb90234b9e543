using System.Security.Cryptography;
using System.Text;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Tasks;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// A run configuration with everything it names found and checked: the population (layouts), the task and its data
/// (for the built-in evaluator), and that the population fits the task's model family. Made before a run directory
/// is touched, and again by export and score; the checks that read every byte are <see cref="RequireStartable"/>'s,
/// which only <c>evolver run</c> pays.
/// </summary>
internal sealed record ResolvedRun(RunConfiguration Config, RunPopulation Population, IEvaluationTask? Task, TaskData? Data)
{
    public bool Simulated => Config.Simulation is not null;

    /// <param name="config">The run's configuration.</param>
    /// <param name="check">Called with the population before the task loads (export's output checks).</param>
    public static ResolvedRun Resolve(RunConfiguration config, Action<RunPopulation>? check = null)
    {
        var population = RunPopulation.Load(config.Population);
        check?.Invoke(population);
        if (config.Simulation is not null)
        {
            return new ResolvedRun(config, population, null, null);
        }
        RequireProgram(config);
        var task = config.Task?.Resolve(config.Population.Quick);
        if (config.Evaluator.IsExternal || task is null)
        {
            return new ResolvedRun(config, population, task, null);
        }
        var data = task.Load(new TaskLoadContext(population.DataSeed, population.Members[0]));
        if (config.Settings.Guard is { Enabled: true } guard)
        {
            data = data.WithGuard(guard.Fraction, Actors.Run.GuardSettings.SplitSeed(config.Settings.Seed));
        }
        FitnessFactory.RequireFits(task, data, population);
        return new ResolvedRun(config, population, task, data);
    }

    /// <summary>
    /// What a new run must not start with, found by reading every member and statistics file once: NaN or infinite
    /// weights, and merge statistics that are missing or not statistics of the method's kind for this population.
    /// </summary>
    /// <param name="checkMembers">False where the members are known to be the ones checked before (a resumed run's, by content hash).</param>
    public void RequireStartable(bool checkMembers = true)
    {
        foreach (var member in checkMembers ? Population.Members : [])
        {
            Tensors.Checkpoints.Checkpoint.RequireFinite(member);
        }
        FitnessFactory.RequireStatistics(Config.Settings, Population);
        MemoryBudget.CacheBytes(Config.Settings, Population, Config.Source);
    }

    /// <summary>A worker or command evaluator's program must exist (a path, or a name found on PATH), before anything starts.</summary>
    private static void RequireProgram(RunConfiguration config)
    {
        if (config.Evaluator.Kind is not (EvaluatorKind.Worker or EvaluatorKind.Command))
        {
            return;
        }
        var program = config.Evaluator.Command[0];
        var found = program.Contains('/', StringComparison.Ordinal)
            ? File.Exists(program)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Any(directory => File.Exists(Path.Combine(directory, program)));
        if (!found)
        {
            throw new EvolverException($"{config.Source}: evolver.run.evaluator.command: program '{program}' is not a file{(program.Contains('/', StringComparison.Ordinal) ? "" : " on PATH")}");
        }
    }

    /// <summary>
    /// Each evaluator's fitness, by device; <paramref name="weights"/>: the run's weights, where the merge statistics of
    /// members admitted while running are kept (their population snapshots).
    /// </summary>
    public Func<Device, IPopulationFitness> Fitness(Action<string>? log = null, RunWeights? weights = null) => Config.Simulation is { } simulation
        ? SimulationSettings.Factory(simulation, Config.Settings)
        : FitnessFactory.Create(Config, Population, Task, Data, log, weights is null ? null : (id, device) => weights.Snapshots.TryLoad(id, device));

    /// <summary>What the run is (settings that change results, and the members by content hash), checked on resume.</summary>
    public RunFingerprint Fingerprint()
    {
        var identity = Config.Identity(Task);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", identity.Select(kv => $"{kv.Key}={kv.Value}")))));
        return new RunFingerprint(hash, identity,
            [.. Population.Members.Select((m, slot) => new MemberFingerprint(slot, Population.Names[slot], RunFingerprint.Sha256OfCheckpoint(m)))]);
    }
}
