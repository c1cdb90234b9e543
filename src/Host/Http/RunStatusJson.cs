using System.Text.Json.Nodes;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;

namespace EvolverActors.Host.Http;

/// <summary>
/// The JSON of <c>GET /api/status</c> (docs/architecture.md §6): what `evolver status` says, plus the population, this
/// node's evaluators, the latest acceptances with their recipes, and the commands that read the run.
/// Scores that are not finite numbers (none yet) are <c>null</c>.
/// </summary>
internal static class RunStatusJson
{
    /// <remarks><paramref name="admitStatistics"/>: what the admit command adds in a merged fisher or regmean run (" --fisher FILE").</remarks>
    public static JsonObject Build(string runId, string? http, RunProgress p, RunMetrics metrics, IReadOnlyList<RecipeAccepted> recent, string runsRoot,
        string admitStatistics = "")
    {
        var population = new JsonArray();
        for (var slot = 0; slot < p.Ledger.SlotWeights.Length; slot++)
        {
            population.Add(new JsonObject
            {
                ["slot"] = slot,
                ["weights"] = p.Ledger.SlotWeights[slot],
                ["score"] = Finite(p.Ledger.SlotScores.ElementAtOrDefault(slot)),
                ["adopted_at_version"] = recent.FirstOrDefault(a => a.Slot == slot && a.WeightsId == p.Ledger.SlotWeights[slot])?.Version,
                ["accepted"] = recent.Count(a => a.Slot == slot && !a.Recipe.IsCoefficients),
                ["retired"] = p.Ledger.IsRetired(slot),
            });
        }
        var evaluators = new JsonArray();
        foreach (var (name, device, busy, scored) in metrics.Evaluators())
        {
            evaluators.Add(new JsonObject { ["name"] = name, ["device"] = device, ["busy_ratio"] = Math.Round(busy, 4), ["scored"] = scored });
        }
        var acceptances = new JsonArray();
        foreach (var a in recent)
        {
            acceptances.Add(new JsonObject
            {
                ["version"] = a.Version,
                ["slot"] = a.Recipe.IsCoefficients ? null : a.Slot, // a coefficient search's best merge replaces no member
                ["weights"] = a.WeightsId,
                ["score"] = Finite(a.Score),
                ["previous_score"] = Finite(a.PreviousScore),
                ["evaluation"] = a.Evaluation,
                ["evaluator"] = a.Evaluator,
                ["at"] = a.At,
                ["recipe"] = new JsonObject
                {
                    ["operator"] = a.Recipe.Operator,
                    ["f"] = a.Recipe.F,
                    ["cr"] = a.Recipe.CR,
                    ["crossover"] = a.Recipe.Crossover,
                    ["granularity"] = a.Recipe.Granularity,
                    ["parents"] = new JsonArray([.. a.Recipe.Parents.Select(x => (JsonNode)x)]),
                    ["seed"] = a.Recipe.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            });
        }
        var runs = runsRoot == Run.RunLauncher.DefaultRunsRoot ? "" : $" --runs {runsRoot}";
        return new JsonObject
        {
            ["run"] = runId,
            ["state"] = p.State,
            ["reason"] = p.Reason,
            ["evaluations"] = p.Evaluations,
            ["max_evaluations"] = p.MaxEvaluations,
            ["accepted"] = p.Accepted,
            ["rejected"] = p.Rejected,
            ["failed"] = p.Failed,
            ["best_dev"] = Finite(p.BestDev),
            ["population_score"] = Finite(p.PopulationScore),
            ["version"] = p.Version,
            ["evals_per_s"] = Finite(p.EvaluationsPerSecond),
            ["eta_s"] = Finite(p.EtaSeconds),
            ["members"] = p.Ledger.ActiveSlots().Length,
            ["http"] = http,
            ["population"] = population,
            ["evaluators"] = evaluators,
            ["recent_acceptances"] = acceptances,
            ["commands"] = new JsonObject
            {
                ["lineage"] = $"evolver lineage --run {runId}{runs}",
                ["export"] = $"evolver export --run {runId}{runs} --out DIR",
                ["status"] = $"evolver status --run {runId}{runs}",
                ["admit"] = $"evolver admit --run {runId}{runs} --model DIR{admitStatistics}",
            },
        };
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;
}
