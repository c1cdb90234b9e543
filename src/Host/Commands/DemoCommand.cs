using System.CommandLine;
using System.Globalization;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver demo</c>, the README's main job: builds the mnist-noniid zoo if missing, evolves it in steady-state
/// merged/average mode with two CPU evaluators, and prints each individual, the simple average and the evolved
/// result on dev, in-domain test and out-of-domain test.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var evaluations = new Option<int>("--evaluations") { Description = "evaluation budget of the run", DefaultValueFactory = _ => 120 };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("demo", "build the mnist-noniid zoo if missing, evolve it (merged/average, 2 evaluators), print the comparison");
        command.Options.Add(evaluations);
        command.Options.Add(runs);
        command.Subcommands.Add(MergeDemoCommand.Create());
        command.SetAction(result => Cli.Guard(() => Run(result.GetValue(evaluations), result.GetValue(runs)!, Console.Out).GetAwaiter().GetResult()));
        return command;
    }

    internal static async Task<int> Run(int evaluations, string runsRoot, TextWriter output)
    {
        var zoo = ZooCommand.DefaultDirectory(MnistNonIidRecipe.Name, seed: 0, quick: false);
        if (!File.Exists(Path.Combine(zoo, ZooManifest.FileName)))
        {
            output.WriteLine($"1. building the {MnistNonIidRecipe.Name} zoo (once; later demos reuse it)");
            ZooCommand.BuildZoo(MnistNonIidRecipe.Name, zoo, seed: 0, quick: false, taskFile: null, dataDir: null, CPU, output);
        }
        else
        {
            output.WriteLine($"1. reusing the zoo at {zoo}");
        }

        var runId = "demo-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var template = RunConfiguration.Load(Path.Combine(AppContext.BaseDirectory, "config", "hocon", "runs", "mnist-noniid.conf"));
        var config = template with
        {
            Population = new PopulationSpec { Zoo = Path.GetFullPath(zoo) },
            Settings = template.Settings with { MaxEvaluations = evaluations },
        };
        output.WriteLine($"2. evolving it: run '{runId}' (steady-state, merged/average, 2 CPU evaluators, {evaluations} evaluations)");
        var (exitCode, _) = await RunLauncher.RunAsync(new RunRequest(config, runId, runsRoot, output)).ConfigureAwait(false);
        if (exitCode != 0)
        {
            return exitCode;
        }

        output.WriteLine("3. results (selection used dev only; test and ood are reported)");
        using var evolved = await RunResult.BuildAsync(runsRoot, runId).ConfigureAwait(false);
        var manifest = evolved.Population.Manifest!;
        var rows = manifest.Models.Select(m => (m.Name, new SplitScores(m.Dev, m.Test, m.Ood))).ToList();
        rows.Add(("average (merge)", manifest.Average));
        rows.Add(($"evolved (Evolver + average, {evolved.Report.State.Accepted} accepted)", evolved.Scores));
        var width = rows.Max(r => r.Item1.Length);
        output.WriteLine($"| {"model".PadRight(width)} |    dev |   test |    ood |");
        output.WriteLine($"|{new string('-', width + 2)}|-------:|-------:|-------:|");
        foreach (var (name, s) in rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name.PadRight(width)} | {s.Dev:F4} | {s.Test:F4} | {s.Ood:F4} |"));
        }
        output.WriteLine($"lineage: evolver lineage --run {runId}; export: evolver export --run {runId} --out DIR");
        return 0;
    }
}
