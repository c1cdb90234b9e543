using System.CommandLine;
using EvolverActors.Host.Run;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver run --config FILE [--run-id ID]</c>: start a run, or resume it when the id exists.</summary>
internal static class RunCommand
{
    public static Option<string> RunsRootOption() =>
        new("--runs") { Description = "directory holding the runs (journal, weights, status)", DefaultValueFactory = _ => RunLauncher.DefaultRunsRoot };

    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "run config (HOCON, see config/hocon/runs/)", Required = true };
        var runId = new Option<string?>("--run-id") { Description = "run id (default: the config file's name); an existing id resumes" };
        var runs = RunsRootOption();
        var command = new Command("run", "evolve a population as a steady-state stream; resumes an existing run id");
        command.Options.Add(config);
        command.Options.Add(runId);
        command.Options.Add(runs);
        command.SetAction(result => Cli.Guard(() =>
        {
            var (exitCode, _) = RunLauncher.RunAsync(RunRequest.FromFile(result.GetValue(config)!, result.GetValue(runId), result.GetValue(runs)!, Console.Out))
                .GetAwaiter().GetResult();
            return exitCode;
        }));
        return command;
    }
}
