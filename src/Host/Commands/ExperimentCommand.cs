using System.CommandLine;
using EvolverActors.Host.Experiment;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver experiment --recipe NAME --seeds K [--out DIR] [--evaluations N] [--quick] [--run-minutes M]</c>: individual models, dev-tuned
/// merges and Evolver (individual, +average, +fisher, +regmean) per seed; mean ± std as JSON, Markdown and PNG charts.
/// </summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var recipe = new Option<string>("--recipe", "-r") { Description = $"which zoo: {string.Join(", ", ZooCommand.Recipes)}", Required = true };
        var seeds = new Option<int>("--seeds") { Description = "number of seeds (0..K-1), each with its own zoo", DefaultValueFactory = _ => 5 };
        var output = new Option<string?>("--out", "-o") { Description = "output directory (default .evolver/experiments/<recipe>)" };
        var evaluations = new Option<int?>("--evaluations") { Description = "evaluations per Evolver run, the initial scoring included (default: that scoring + 15·N offspring, N models)" };
        var quick = new Option<bool>("--quick") { Description = "the small zoo size (sentiment-minilm)" };
        var runMinutes = new Option<int>("--run-minutes")
        {
            Description = "wall-time cap per Evolver run, a safety net against a stalled run; raise it on slow machines or larger setups, "
                + "where a run that hits it stops short of its budget (it says so)",
            DefaultValueFactory = _ => ExperimentRunner.DefaultRunMinutes,
        };
        var keepRuns = new Option<bool>("--keep-runs") { Description = "keep each Evolver run's directory, for lineage, replay or export (default: deleted once scored)" };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("experiment", "compare individual models, dev-tuned merges and Evolver over seeds (selection on dev only)");
        foreach (var option in new Option[] { recipe, seeds, output, evaluations, quick, runMinutes, keepRuns, runs })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var name = result.GetValue(recipe)!;
            if (!ZooCommand.Recipes.Contains(name))
            {
                throw new EvolverException($"unknown recipe '{name}': known recipes are {string.Join(", ", ZooCommand.Recipes)}");
            }
            var k = result.GetValue(seeds);
            if (k < 1)
            {
                throw new EvolverException("--seeds must be at least 1");
            }
            if (result.GetValue(evaluations) is < 1)
            {
                throw new EvolverException("--evaluations must be at least 1");
            }
            if (result.GetValue(runMinutes) < 1)
            {
                throw new EvolverException($"--run-minutes {result.GetValue(runMinutes)}: must be at least 1");
            }
            var request = new ExperimentRequest(name, k, result.GetValue(quick),
                result.GetValue(output) ?? Path.Combine(".evolver", "experiments", name), result.GetValue(runs)!, result.GetValue(evaluations),
                "evolver " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)), result.GetValue(keepRuns))
            {
                RunMinutes = result.GetValue(runMinutes),
            };
            ExperimentRunner.RunAsync(request, Console.Out).GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }
}
