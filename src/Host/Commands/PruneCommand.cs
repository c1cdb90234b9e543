using System.CommandLine;
using System.Globalization;
using EvolverActors.Host.Run;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver prune --run ID</c>: deletes the weight files of replaced members of a stopped run.</summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id (the run must not be running)", Required = true };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("prune", "delete a stopped run's weight files except the current population (the lineage stays in the journal)");
        command.Options.Add(run);
        command.Options.Add(runs);
        command.SetAction(result => Cli.Guard(() =>
        {
            var pruned = RunPruning.PruneAsync(result.GetValue(runs)!, result.GetValue(run)!).GetAwaiter().GetResult();
            Console.WriteLine(Describe(pruned));
            return 0;
        }));
        return command;
    }

    internal static string Describe(PruneResult p)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"run '{p.RunId}': removed {p.Removed} replaced weight files ({ByteSize.Format(p.RemovedBytes)}); kept the current population, {p.Kept} files ({ByteSize.Format(p.KeptBytes)})");
        return p.TempFiles > 0
            ? text + string.Create(CultureInfo.InvariantCulture, $"; removed {p.TempFiles} temp files of interrupted writes ({ByteSize.Format(p.TempBytes)})")
            : text;
    }
}
