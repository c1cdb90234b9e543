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
        var filesListen = new Option<string>("--files-listen")
        {
            Description = "HOST:PORT of the file server that hands the starting members to worker nodes by content hash (port 0: any free port; bearer token in the run directory's files.token)",
            DefaultValueFactory = _ => "127.0.0.1:0",
        };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "text, or json: one JSON object per line ({time, run, message}) on stdout and in the run's run.log",
            DefaultValueFactory = _ => "text",
        };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var command = new Command("run", "evolve a population as a steady-state stream; resumes an existing run id");
        command.Options.Add(logFormat);
        command.Options.Add(config);
        command.Options.Add(runId);
        command.Options.Add(runs);
        command.Options.Add(filesListen);
        command.SetAction(result => Cli.Guard(() =>
        {
            var request = RunRequest.FromFile(result.GetValue(config)!, result.GetValue(runId), result.GetValue(runs)!, Console.Out)
                with
            { FilesListen = Endpoint(result.GetValue(filesListen)!), JsonLog = result.GetValue(logFormat) == "json" };
            var (exitCode, _) = RunLauncher.RunAsync(request).GetAwaiter().GetResult();
            return exitCode;
        }));
        return command;
    }

    /// <summary>An IP address and port (<c>127.0.0.1:0</c>, <c>0.0.0.0:8470</c>, <c>[::1]:0</c>), or one line naming the flag.</summary>
    internal static System.Net.IPEndPoint Endpoint(string text) =>
        System.Net.IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal)
            ? endpoint
            : throw new Tensors.EvolverException($"--files-listen: '{text}' is not IP:PORT (e.g. 127.0.0.1:0, or 0.0.0.0:8470 for other hosts)");
}
