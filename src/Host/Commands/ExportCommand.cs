using System.CommandLine;
using System.Text.Json;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Checkpoints;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver export --run ID --out DIR [--force] [--max-shard-size SIZE]</c>: the fused model as Hugging Face safetensors
/// (sharded above the size, written by the same <see cref="CheckpointWriter"/> as <c>evolver merge</c>), the first
/// member's config and tokenizer files (<see cref="CheckpointCompanions"/>), plus a manifest.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "output directory (refused when it is not empty, unless --force)", Required = true };
        var force = new Option<bool>("--force") { Description = "write into a non-empty output directory (never into the run's zoo, members or run directory)" };
        var maxShard = new Option<string>("--max-shard-size") { Description = "shard the output above this size, e.g. 5GB or 500MB", DefaultValueFactory = _ => "5GB" };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("export", "write a run's result (merged: X(population); individual: best member) as safetensors");
        command.Options.Add(run);
        command.Options.Add(output);
        command.Options.Add(force);
        command.Options.Add(maxShard);
        command.Options.Add(runs);
        command.SetAction(result => Cli.Guard(() =>
        {
            var (runId, target) = (result.GetValue(run)!, result.GetValue(output)!);
            var maxShardBytes = ByteSize.Parse(result.GetValue(maxShard)!, "--max-shard-size");
            using var runResult = BuildAsync(result.GetValue(runs)!, runId, target, result.GetValue(force)).GetAwaiter().GetResult();
            var files = Export(runResult, runId, target, maxShardBytes);
            Console.WriteLine($"exported run '{runId}' ({runResult.Mode}, version {runResult.Version}{(runResult.Version != runResult.Report.State.Version ? $" of {runResult.Report.State.Version}, the best by guard" : "")}): dev {runResult.Scores.Dev:F4}, test {runResult.Scores.Test:F4}, ood {runResult.Scores.Ood:F4} -> {files.Count} file(s) in {target}");
            return 0;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// The run's result, with <paramref name="output"/> checked before anything is computed (<see cref="ExportGuard"/>).
    /// Paths come from the run's run.conf, which holds them absolute, so export works from any directory.
    /// </summary>
    internal static Task<RunResult> BuildAsync(string runsRoot, string runId, string output, bool force) =>
        RunResult.BuildAsync(runsRoot, runId, (population, run) => ExportGuard.Require(output, force, population, run));

    internal static IReadOnlyList<string> Export(RunResult result, string runId, string output, long maxShardBytes = long.MaxValue)
    {
        var state = result.Report.State;
        var population = result.Version == state.Version ? state.View() : result.Report.PopulationAt(result.Version);
        var files = Checkpoint.Save(output, result.Fused, new Dictionary<string, string> { ["format"] = "pt", ["evolver_run"] = runId }, maxShardBytes);
        // Config and tokenizer files come along from the first member, so the result loads as the members do.
        CheckpointCompanions.CopyInto(result.Population.Members[0], output);
        var manifest = new
        {
            run = runId,
            mode = result.Mode,
            version = result.Version,
            last_version = state.Version,
            evaluations = state.Evaluations,
            accepted = state.Accepted,
            slots = population.SlotWeights,
            retired_slots = population.Retired ?? [],
            scores = new { dev = result.Scores.Dev, test = result.Scores.Test, ood = result.Scores.Ood },
            zoo = result.Population.ZooDirectory,
            exported_utc = DateTime.UtcNow,
        };
        File.WriteAllText(Path.Combine(output, "evolver-manifest.json"), JsonSerializer.Serialize(manifest, Indented) + "\n");
        return files;
    }
}
