using System.CommandLine;
using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver export --run ID --out DIR [--force]</c>: the fused model as Hugging Face safetensors plus a manifest.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "output directory (refused when it is not empty, unless --force)", Required = true };
        var force = new Option<bool>("--force") { Description = "write into a non-empty output directory (never into the run's zoo, members or run directory)" };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("export", "write a run's result (merged: X(population); individual: best member) as safetensors");
        command.Options.Add(run);
        command.Options.Add(output);
        command.Options.Add(force);
        command.Options.Add(runs);
        command.SetAction(result => Cli.Guard(() =>
        {
            var (runId, target) = (result.GetValue(run)!, result.GetValue(output)!);
            using var runResult = BuildAsync(result.GetValue(runs)!, runId, target, result.GetValue(force)).GetAwaiter().GetResult();
            var files = Export(runResult, runId, target);
            Console.WriteLine($"exported run '{runId}' ({runResult.Mode}, version {runResult.Report.State.Version}): dev {runResult.Scores.Dev:F4}, test {runResult.Scores.Test:F4}, ood {runResult.Scores.Ood:F4} -> {files.Count} file(s) in {target}");
            return 0;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// The run's result, as <see cref="RunResult.BuildAsync"/> builds it, but with the zoo found where the run recorded it
    /// (<see cref="RunZoo"/>) instead of relative to the current directory, and with <paramref name="output"/> checked
    /// before anything is computed: a non-empty directory needs <paramref name="force"/>; the run's own zoo, members and
    /// run directory are refused even with it.
    /// </summary>
    internal static async Task<RunResult> BuildAsync(string runsRoot, string runId, string output, bool force)
    {
        var run = RunDirectory.Open(runsRoot, runId);
        if (!File.Exists(run.ConfigPath))
        {
            throw new EvolverException($"run '{runId}' does not exist under {Path.GetFullPath(runsRoot)}");
        }
        var (settings, text) = RunConfig.Load(run.ConfigPath);
        var population = RunPopulation.Load(RunZoo.Resolve(run, settings.Zoo));
        RunZoo.RequireOutsidePopulation(output, population, run);
        if (File.Exists(output))
        {
            throw new EvolverException($"--out {output}: is a file, not a directory");
        }
        if (!force && Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            throw new EvolverException($"--out {output}: is not empty; give --force to write into it (files of the same names are replaced)");
        }
        var report = await JournalAccess.ReadLedgerAsync(run).ConfigureAwait(false);
        if (!report.State.Initialized)
        {
            throw new EvolverException($"run '{runId}' has not scored its population yet: nothing to export");
        }
        var data = TaskData.Load(settings.Task, population.Manifest.Seed, RunConfig.Quick(text));
        var slots = new List<WeightSet>();
        try
        {
            slots.AddRange(report.State.SlotWeights.Select(id => run.Weights.Load(id)));
            using var fitness = TaskFitness.Factory(settings, population, data)(CPU);
            fitness.Sync(report.State.Version, [.. report.State.SlotWeights.Zip(slots)]);
            var fused = fitness.Fused();
            var scores = new SplitScores(fitness.Report(fused, "dev").Get(data.Metric), fitness.Report(fused, "test").Get(data.Metric),
                fitness.Report(fused, "ood").Get(data.Metric));
            return new RunResult(fused, scores, report, population, settings.Mode.ToString().ToLowerInvariant());
        }
        finally
        {
            slots.ForEach(s => s.Dispose());
        }
    }

    internal static IReadOnlyList<string> Export(RunResult result, string runId, string output)
    {
        var state = result.Report.State;
        var files = Checkpoint.Save(output, result.Fused, new Dictionary<string, string> { ["format"] = "pt", ["evolver_run"] = runId });
        // Model-family files (BERT's config.json and vocab.txt) come along from the first member.
        foreach (var extra in new[] { "config.json", "vocab.txt" })
        {
            var source = Path.Combine(result.Population.Members[0], extra);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(output, extra), overwrite: true);
            }
        }
        var manifest = new
        {
            run = runId,
            mode = result.Mode,
            version = state.Version,
            evaluations = state.Evaluations,
            accepted = state.Accepted,
            slots = state.SlotWeights,
            scores = new { dev = result.Scores.Dev, test = result.Scores.Test, ood = result.Scores.Ood },
            zoo = result.Population.ZooDirectory,
            exported_utc = DateTime.UtcNow,
        };
        File.WriteAllText(Path.Combine(output, "evolver-manifest.json"), JsonSerializer.Serialize(manifest, Indented) + "\n");
        return files;
    }
}
