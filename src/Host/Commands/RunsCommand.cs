using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver runs [--runs DIR] [--json]</c>: every run under a directory with its state, progress and best score.</summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var runs = RunCommand.RunsRootOption();
        var json = new Option<bool>("--json") { Description = "one status JSON object per line instead of a table" };
        var command = new Command("runs", "list the runs under a directory with their state and best dev score");
        command.Options.Add(runs);
        command.Options.Add(json);
        command.SetAction(result => Cli.Guard(() =>
        {
            var root = result.GetValue(runs)!;
            if (!Directory.Exists(root))
            {
                throw new EvolverException($"{Path.GetFullPath(root)}: no such directory (no run has been started there; --runs names another)");
            }
            var rows = Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal)
                .Select(dir => RunDirectory.Open(root, Path.GetFileName(dir)))
                .Where(run => run.Exists)
                .Select(run => (run.RunId, Status: Read(run)))
                .ToList();
            if (result.GetValue(json))
            {
                foreach (var (_, status) in rows.Where(r => r.Status is not null))
                {
                    Console.WriteLine(JsonSerializer.Serialize(status));
                }
                return 0;
            }
            Console.WriteLine($"{"run",-24} {"state",-12} {"evaluations",12} {"accepted",9} {"best dev",9}  {"updated (UTC)",-19}  http");
            foreach (var (id, s) in rows)
            {
                Console.WriteLine(s is null
                    ? $"{id,-24} {"never ran",-12}"
                    : string.Create(CultureInfo.InvariantCulture,
                        $"{id,-24} {s.State,-12} {s.Evaluations,12} {s.Accepted,9} {(double.IsFinite(s.BestDev) ? s.BestDev.ToString("F4", CultureInfo.InvariantCulture) : "-"),9}  {s.UpdatedUtc:yyyy-MM-dd HH:mm:ss}  {(s.IsRunning ? s.Http ?? "" : "")}"));
            }
            return 0;
        }));
        return command;
    }

    /// <summary>The run's status as `evolver status` reports it; a damaged status file is shown as such, not fatal to the list.</summary>
    private static RunStatusView? Read(RunDirectory run)
    {
        try
        {
            return run.CurrentStatus();
        }
        catch (EvolverException)
        {
            return null;
        }
    }
}
