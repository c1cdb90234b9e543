using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// The output of a run: X(population) in merged mode, the best member in individual mode, the best merge found in a
/// coefficient search (docs/architecture.md §1), with its scores. The population
/// is the run's last one, or with <c>acceptance.output = best-guard</c> the version whose guard score was the highest
/// (<see cref="Version"/>; docs/architecture.md §1, "The guard").
/// </summary>
internal sealed record RunResult(WeightSet Fused, SplitScores Scores, LedgerReport Report, RunPopulation Population, string Mode, long Version) : IDisposable
{
    /// <param name="runsRoot">Where runs live.</param>
    /// <param name="runId">The run.</param>
    /// <param name="check">Called with the population and run directory before anything is computed (export's output checks).</param>
    public static async Task<RunResult> BuildAsync(string runsRoot, string runId, Action<RunPopulation, RunDirectory>? check = null)
    {
        var run = RunDirectory.Open(runsRoot, runId);
        if (!File.Exists(run.ConfigPath))
        {
            throw new EvolverException($"run '{runId}' does not exist under {Path.GetFullPath(runsRoot)}");
        }
        var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath), population => check?.Invoke(population, run));
        var settings = resolved.Config.Settings;
        var report = await JournalAccess.ReadLedgerAsync(run).ConfigureAwait(false);
        if (!report.State.Initialized)
        {
            throw new EvolverException($"run '{runId}' has not scored its population yet: nothing to export");
        }
        var weights = RunWeights.OpenForReading(run, resolved, report, CPU);
        var slots = new List<WeightLease>();
        try
        {
            // The population as it is now (admitted members in, retired ones out: docs/architecture.md §6), or the best-guard one.
            var version = OutputVersion(settings, report.State);
            var population = version == report.State.Version ? report.State.View() : report.PopulationAt(version);
            using var fitness = resolved.Fitness(weights: weights)(CPU);
            // A coefficient search's output is its best merge, made already: the members are merged only otherwise.
            var fused = SearchOutput(report, version, weights);
            if (fused is null)
            {
                var members = population.ActiveSlots().Select(slot => population.SlotWeights[slot]).ToList();
                slots.AddRange(members.Select(weights.Resident.Acquire));
                fitness.Sync(version, [.. members.Zip(slots.Select(l => l.Weights))], population.MemberKeys());
                fused = fitness.Fused();
            }
            double Split(string split) => fitness.Splits.Contains(split, StringComparer.Ordinal) ? fitness.Report(fused, split) : double.NaN;
            var scores = new SplitScores(Split("dev"), Split("test"), Split("ood"));
            return new RunResult(fused, scores, report, resolved.Population, settings.Mode.ToString().ToLowerInvariant(), version);
        }
        finally
        {
            slots.ForEach(s => s.Dispose());
        }
    }

    /// <summary>
    /// A coefficient search's output at <paramref name="version"/>: the best merge accepted by then (rebuilt from its
    /// coefficient recipe if no cache has it, checked against the hash the run scored), or null before the first
    /// acceptance or in a breeding run (the output is then X(population), the equal-weight start in a search).
    /// </summary>
    public static WeightSet? SearchOutput(LedgerReport report, long version, RunWeights weights)
    {
        if (report.Recipes.LastOrDefault(r => r.Recipe.IsCoefficients && r.Version <= version) is not { } best)
        {
            return null;
        }
        using var lease = weights.Resident.Acquire(best.WeightsId);
        return lease.Weights.Clone();
    }

    /// <summary>The population version a run gives as its output: the last, or the best-guard one when the run asks for it.</summary>
    public static long OutputVersion(Actors.Run.RunSettings settings, StewardState state) =>
        settings.Guard.Output == Actors.Run.OutputChoice.BestGuard && state.BestGuardVersion is { } best ? best : state.Version;

    public void Dispose() => Fused.Dispose();
}
