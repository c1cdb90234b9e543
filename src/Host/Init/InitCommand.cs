using System.CommandLine;
using EvolverActors.Actors.Run;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Init;

/// <summary>
/// <c>evolver init</c>: writes a commented run config from flags, checked by reading it back, so that a newcomer with
/// their own checkpoints starts in one command and runs it as it is with <c>evolver run --config FILE</c>.
/// </summary>
internal static class InitCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--models", "-m") { Description = "the population: two or more checkpoints (directory, .safetensors file or sharded index)", Required = true, AllowMultipleArgumentsPerToken = true };
        var evaluatorCommand = new Option<string?>("--evaluator-command") { Description = "your evaluator as one command line, e.g. \"python3 worker.py --data dev/\" (split as a shell would, not run by one)" };
        var evaluatorKind = new Option<string>("--evaluator-kind") { Description = "worker (a long-lived process, NDJSON on stdin/stdout) or command (a process per candidate)", DefaultValueFactory = _ => "worker" };
        var evaluatorUrl = new Option<string?>("--evaluator-url") { Description = "an HTTP evaluator: POST {checkpoint, split} → {score}" };
        var task = new Option<string?>("--task") { Description = "the built-in evaluator's task: a built-in task name or a task file (e.g. a JSONL text-classification task)" };
        var mode = new Option<string>("--mode") { Description = "merged (X(population) must improve) or individual (each member must improve)", DefaultValueFactory = _ => "merged" };
        var mergeMethod = new Option<string>("--merge-method") { Description = "average, fisher or regmean (merged mode)", DefaultValueFactory = _ => "average" };
        var budget = new Option<long?>("--max-evaluations") { Description = "evaluation budget (default: the reference loop's 1 + 15·N, N + 15·N in individual mode)" };
        var devices = new Option<string>("--devices") { Description = "one evaluator per entry, comma-separated: cpu, cuda, cuda:N", DefaultValueFactory = _ => "cpu" };
        var baseModel = new Option<string?>("--base") { Description = "the common base checkpoint (for task-vector merges)" };
        var fisher = new Option<string[]>("--fisher") { Description = "per-model Fisher statistics (evolver stats), one per model in order: for --merge-method fisher", AllowMultipleArgumentsPerToken = true };
        var gram = new Option<string[]>("--gram") { Description = "per-model RegMean Gram statistics, one per model in order: for --merge-method regmean", AllowMultipleArgumentsPerToken = true };
        var scratch = new Option<string?>("--scratch") { Description = $"where candidates are written for an external evaluator (default {EvaluatorSpec.DefaultScratch()})" };
        var output = new Option<string>("--out", "-o") { Description = "where to write the run config", Required = true };
        var force = new Option<bool>("--force") { Description = "overwrite an existing file" };
        var command = new Command("init", "write a commented run config for your own checkpoints and evaluator");
        foreach (var option in new Option[] { models, evaluatorCommand, evaluatorKind, evaluatorUrl, task, mode, mergeMethod, budget, devices, baseModel, fisher, gram, scratch, output, force })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var flags = new InitFlags(result.GetValue(models) ?? [], result.GetValue(evaluatorCommand), result.GetValue(evaluatorKind)!, result.GetValue(evaluatorUrl),
                result.GetValue(task), result.GetValue(mode)!, result.GetValue(mergeMethod)!, result.GetValue(budget), result.GetValue(devices)!,
                result.GetValue(scratch), result.GetValue(baseModel), result.GetValue(fisher) ?? [], result.GetValue(gram) ?? []);
            var path = result.GetValue(output)!;
            if (File.Exists(path) && !result.GetValue(force))
            {
                throw new EvolverException($"{path}: exists already (use --force to overwrite)");
            }
            var text = RunConfigWriter.Render(Build(flags), commented: true);
            Check(text, path);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, text);
            Console.WriteLine($"wrote {path}; start it with: evolver run --config {path}");
            return 0;
        }));
        return command;
    }

    internal sealed record InitFlags(IReadOnlyList<string> Models, string? EvaluatorCommand, string EvaluatorKind, string? EvaluatorUrl, string? Task,
        string Mode, string MergeMethod, long? MaxEvaluations, string Devices, string? Scratch = null, string? Base = null,
        IReadOnlyList<string>? Fisher = null, IReadOnlyList<string>? Gram = null);

    /// <summary>The run configuration the flags describe (paths made absolute, so the file runs from any directory).</summary>
    internal static RunConfiguration Build(InitFlags flags)
    {
        var chosen = new[] { flags.EvaluatorCommand, flags.EvaluatorUrl, flags.Task }.Count(f => f is not null);
        if (chosen != 1)
        {
            throw new EvolverException("init: give exactly one of --evaluator-command, --evaluator-url or --task");
        }
        if (flags.Models.Count < 2)
        {
            throw new EvolverException($"--models: a population needs at least 2 checkpoints, got {flags.Models.Count}");
        }
        foreach (var model in flags.Models.Where(m => !Directory.Exists(m) && !File.Exists(m)))
        {
            throw new EvolverException($"--models: {model}: no such checkpoint");
        }
        var evaluator = flags switch
        {
            { EvaluatorCommand: { } line } => new EvaluatorSpec
            {
                Kind = flags.EvaluatorKind.ToLowerInvariant() switch
                {
                    "worker" => EvaluatorKind.Worker,
                    "command" => EvaluatorKind.Command,
                    var other => throw new EvolverException($"--evaluator-kind '{other}' is unknown: use worker or command"),
                },
                Command = CommandLineSplitter.Split(line, "--evaluator-command"),
            },
            { EvaluatorUrl: { } url } => new EvaluatorSpec
            {
                Kind = EvaluatorKind.Http,
                Url = Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : throw new EvolverException($"--evaluator-url '{url}' is not an http(s) URL"),
            },
            _ => new EvaluatorSpec(),
        };
        var taskReference = flags.Task is { } task
            ? File.Exists(task) ? new TaskReference(null, Path.GetFullPath(task), null) : new TaskReference(task, null, null)
            : null;
        var individual = flags.Mode.ToLowerInvariant() switch
        {
            "individual" => true,
            "merged" => false,
            var other => throw new EvolverException($"--mode '{other}' is unknown: use merged or individual"),
        };
        var deviceList = flags.Devices.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var n = flags.Models.Count;
        var text = RunConfigWriter.Render(new RunConfiguration
        {
            Source = "init",
            Settings = new RunSettings
            {
                Task = taskReference?.DisplayName ?? "external",
                Mode = individual ? FitnessMode.Individual : FitnessMode.Merged,
                MergeMethod = flags.MergeMethod.ToLowerInvariant(),
                Devices = deviceList,
                MaxEvaluations = flags.MaxEvaluations ?? ((individual ? n : 1) + (15L * n)),
            },
            Population = new PopulationSpec
            {
                Models = [.. flags.Models.Select(Path.GetFullPath)],
                Base = flags.Base is null ? null : Path.GetFullPath(flags.Base),
                Fisher = [.. (flags.Fisher ?? []).Select(Path.GetFullPath)],
                Gram = [.. (flags.Gram ?? []).Select(Path.GetFullPath)],
            },
            Evaluator = flags.Scratch is { } scratchDirectory ? evaluator with { Scratch = Path.GetFullPath(scratchDirectory) } : evaluator,
            Task = taskReference,
        }, commented: false);
        // Read back through the one parser, so every flag gets the same checks (and messages) as a config file.
        return RunConfiguration.Parse(HoconSettings.Parse(text, "init"));
    }

    /// <summary>The written text must parse back, and its population and task must resolve, before the file is written.</summary>
    private static void Check(string text, string path)
    {
        var config = RunConfiguration.Parse(HoconSettings.Parse(text, path));
        RunPopulation.Load(config.Population);
        config.Task?.Resolve(config.Population.Quick);
    }
}
