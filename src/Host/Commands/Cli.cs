using System.CommandLine;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Commands;

/// <summary>Builds the root command and turns user errors into one-line messages with exit code 2.</summary>
internal static class Cli
{
    public const int UserError = 2;

    /// <summary>An unexpected exception (a bug): reported in one line.</summary>
    public const int InternalError = 70;

    /// <summary>Every subcommand of <c>evolver</c>, in help order.</summary>
    public static Command[] AllCommands() =>
    [
        DemoCommand.Create(),
        Init.InitCommand.Create(),
        RunCommand.Create(),
        NodeCommand.Create(),
        SecretCommand.Create(),
        ScoreCommand.Create(),
        StatusCommand.Create(),
        RunsCommand.Create(),
        .. ControlCommands.Create(),
        LineageCommand.Create(),
        ExportCommand.Create(),
        PruneCommand.Create(),
        ReplayCommand.Create(),
        InspectCommand.Create(),
        MergeCommand.Create(),
        ZooCommand.Create(),
        StatsCommand.Create(),
        ImportOnnxCommand.Create(),
        BenchCommand.Create(),
        ExperimentCommand.Create(),
    ];

    public static int Run(string[] args) => Run(args, AllCommands());

    public static int Run(string[] args, params Command[] commands)
    {
        var root = new RootCommand("evolver: evolve and merge fine-tuned checkpoints (Hugging Face safetensors)");
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }
        return root.Parse(args).Invoke();
    }

    /// <summary>Runs a command body; an <see cref="EvolverException"/> becomes "error: ..." on stderr, exit 2.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (EvolverException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return UserError;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return UserError;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return UserError;
        }
#pragma warning disable CA1031 // the last line of defence: a bug is reported in one line, not a stack trace
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message.Split('\n')[0]} (a bug: please report it with the command line)");
            return InternalError;
        }
#pragma warning restore CA1031
    }
}
