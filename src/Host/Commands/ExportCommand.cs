using System.CommandLine;
using System.Text.Json;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Checkpoints;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver export --run ID --out DIR</c>: the fused model as Hugging Face safetensors plus a manifest.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "output directory", Required = true };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("export", "write a run's result (merged: X(population); individual: best member) as safetensors");
        command.Options.Add(run);
        command.Options.Add(output);
        command.Options.Add(runs);
        command.SetAction(result => Cli.Guard(() =>
        {
            using var runResult = RunResult.BuildAsync(result.GetValue(runs)!, result.GetValue(run)!).GetAwaiter().GetResult();
            var files = Export(runResult, result.GetValue(run)!, result.GetValue(output)!);
            Console.WriteLine($"exported run '{result.GetValue(run)}' ({runResult.Mode}, version {runResult.Report.State.Version}): dev {runResult.Scores.Dev:F4}, test {runResult.Scores.Test:F4}, ood {runResult.Scores.Ood:F4} -> {files.Count} file(s) in {result.GetValue(output)}");
            return 0;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

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
