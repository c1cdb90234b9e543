using System.CommandLine;
using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver status --run ID</c>: one JSON object, readable while the run is going, from another process.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id", Required = true };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("status", "print a run's state as one JSON object");
        command.Options.Add(run);
        command.Options.Add(runs);
        command.SetAction(result => Cli.Guard(() =>
        {
            var directory = RunDirectory.Open(result.GetValue(runs)!, result.GetValue(run)!);
            var status = directory.CurrentStatus()
                ?? throw new EvolverException($"run '{directory.RunId}' has no status under {directory.Root} (never started?)");
            Console.WriteLine(JsonSerializer.Serialize(status));
            return 0;
        }));
        return command;
    }
}
