using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>The output of a run: X(population) in merged mode, the best member in individual mode, with its scores.</summary>
internal sealed record RunResult(WeightSet Fused, SplitScores Scores, LedgerReport Report, RunPopulation Population, string Mode) : IDisposable
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
        var (settings, population) = (resolved.Config.Settings, resolved.Population);
        var report = await JournalAccess.ReadLedgerAsync(run).ConfigureAwait(false);
        if (!report.State.Initialized)
        {
            throw new EvolverException($"run '{runId}' has not scored its population yet: nothing to export");
        }
        var weights = RunWeights.OpenForReading(run, resolved, report, CPU);
        var slots = new List<WeightLease>();
        try
        {
            // The population as it is now: admitted members in, retired ones out (docs/architecture.md §6).
            var members = report.State.View().ActiveSlots().Select(slot => report.State.SlotWeights[slot]).ToList();
            slots.AddRange(members.Select(weights.Resident.Acquire));
            using var fitness = resolved.Fitness(weights: weights)(CPU);
            fitness.Sync(report.State.Version, [.. members.Zip(slots.Select(l => l.Weights))], report.State.View().MemberKeys());
            var fused = fitness.Fused();
            double Split(string split) => fitness.Splits.Contains(split, StringComparer.Ordinal) ? fitness.Report(fused, split) : double.NaN;
            var scores = new SplitScores(Split("dev"), Split("test"), Split("ood"));
            return new RunResult(fused, scores, report, population, settings.Mode.ToString().ToLowerInvariant());
        }
        finally
        {
            slots.ForEach(s => s.Dispose());
        }
    }

    public void Dispose() => Fused.Dispose();
}
