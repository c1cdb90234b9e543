using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Search;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Service;

/// <summary>
/// The evolved-coefficient search through the service (docs/architecture.md §1, "Evolved merge coefficients"): a run
/// with <c>search.method = cma-es</c> finds exactly what the in-process search finds with the same scorer, budget and
/// seed, keeps its candidates as coefficient recipes in the journal, resumes to the same merge, and exports, replays and
/// lists it like any run's output.
/// </summary>
public sealed class CoefficientSearchRunTests
{
    private const int Budget = 40;

    private static async Task<global::EvolverActors.Actors.Steward.LedgerReport> RunAsync(ServiceFixture fixture, string name, string runId, int evaluations)
    {
        var config = fixture.Config(name, "merged", "steady-state", evaluations, evaluators: 2, mergeMethod: "linear", extra: "search.method = cma-es");
        var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, runId, fixture.Runs, TextWriter.Null));
        Assert.Equal(0, exitCode);
        return await JournalAccess.ReadLedgerAsync(RunDirectory.Open(fixture.Runs, runId));
    }

    [Fact]
    public async Task A_search_run_finds_what_the_in_process_search_finds_and_a_resumed_one_finds_it_too()
    {
        using var fixture = new ServiceFixture();
        var report = await RunAsync(fixture, "straight", "straight", Budget);
        var run = RunDirectory.Open(fixture.Runs, "straight");

        Assert.Equal(Budget, report.State.Evaluations);
        Assert.Equal(Budget - 1, report.State.SearchScores!.Count); // every candidate after the equal-weight start
        Assert.Equal(report.Starts[0].SlotWeights, report.State.SlotWeights); // the members never change
        Assert.NotEmpty(report.Recipes);
        Assert.All(report.Recipes, r => Assert.True(r.Recipe.IsCoefficients));
        Assert.Equal(report.Recipes[^1].WeightsId, report.State.SearchBest);

        // The in-process search (EvolvedCoefficients) with the run's own dev scorer, budget and seed (breeding.seed = 3).
        var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath));
        var weights = RunWeights.OpenForReading(run, resolved, report, CPU);
        var ids = report.Starts[0].SlotWeights;
        var members = ids.Select(weights.Resident.Acquire).ToList();
        try
        {
            using var fitness = resolved.Fitness(weights: weights)(CPU);
            var reference = EvolvedCoefficients.Search([.. members.Select(m => m.Weights)], w => fitness.Report(w, "dev"), Budget, seed: 3);
            Assert.Equal(reference.Dev, report.State.PopulationScore);
            Assert.Equal(reference.Improvements.Skip(1).Select(i => (long)i.Evaluation), report.Recipes.Select(r => r.Evaluation));
            var found = CoefficientChild.Options(report.Recipes[^1].Recipe, members[0].Weights.Names).LayerWeights!;
            Assert.Equal(reference.LayerWeights.Keys.Order(), found.Keys.Order());
            Assert.All(reference.LayerWeights, layer => Assert.Equal(layer.Value, found[layer.Key]));
            // `evolver lineage` lays the logits out by the checkpoint's header, as the breeder does by the loaded members.
            Assert.Equal(members[0].Weights.Names, LineageCommand.MemberTensorNames(run));
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }

        // The output is the best merge: export's scores say so, and a replay from recipes alone rebuilds it bit for bit.
        using (var result = await RunResult.BuildAsync(fixture.Runs, "straight"))
        {
            Assert.Equal(report.State.PopulationScore, result.Scores.Dev);
            var replayed = ReplayCommand.Replay(fixture.Runs, "straight", null, Path.Combine(fixture.Runs, "replayed"), fused: true, fromRecipes: true);
            using var model = Tensors.Checkpoints.Checkpoint.Load(replayed.Fused!);
            Assert.Equal(WeightHash.Of(result.Fused), WeightHash.Of(model));
            Assert.Equal(1, replayed.Rebuilt); // the best merge, from its coefficient recipe (its content hash checked)
        }
        var lineage = LineageCommand.Json(report, run.ReadFingerprint()?.Settings);
        Assert.Contains("\"best_weights_id\": \"" + report.State.SearchBest + "\"", lineage, StringComparison.Ordinal);
        Assert.Contains("\"search.method\": \"cma-es\"", lineage, StringComparison.Ordinal);

        // Stopped after 17 evaluations (inside a CMA-ES generation), then resumed to the budget: the search replays
        // from the journal's scores and draws the same candidates, so it ends at the same merge.
        await RunAsync(fixture, "first-part", "resumed", 17);
        var resumed = await RunAsync(fixture, "rest", "resumed", Budget);
        Assert.Equal(report.Recipes.Select(r => (r.Version, r.WeightsId, r.Evaluation)), resumed.Recipes.Select(r => (r.Version, r.WeightsId, r.Evaluation)));
        Assert.Equal(report.State.SearchScores, resumed.State.SearchScores);
    }
}
