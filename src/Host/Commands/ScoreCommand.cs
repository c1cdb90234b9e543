using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using static TorchSharp.torch;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver score --config FILE [CHECKPOINT...]</c>: scores checkpoints exactly as the run's evaluator would (the
/// built-in task, or the external evaluator with candidates written to scratch), on dev / test / ood, as a table or
/// JSON. Without checkpoints it scores the config's population. Check a setup with it before a long run.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "run config whose evaluator (and task) to use", Required = true };
        var splits = new Option<string?>("--splits") { Description = "comma-separated splits (default: every split the evaluator has: dev, test, ood)" };
        var json = new Option<bool>("--json") { Description = "one JSON object per checkpoint instead of a table" };
        var device = new Option<string>("--device") { Description = "the evaluator's device: cpu, cuda or cuda:N (an external worker gets it in EVOLVER_DEVICE)", DefaultValueFactory = _ => "cpu" };
        var checkpoints = new Argument<string[]>("checkpoint") { Description = "checkpoints to score (default: the config's population)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("score", "score checkpoints with a run config's evaluator on dev / test / ood (selection would use dev only)");
        command.Options.Add(config);
        command.Options.Add(splits);
        command.Options.Add(json);
        command.Options.Add(device);
        command.Arguments.Add(checkpoints);
        command.SetAction(result => Cli.Guard(() => Run(result.GetValue(config)!, result.GetValue(checkpoints) ?? [], result.GetValue(splits),
            result.GetValue(json), result.GetValue(device)!, Console.Out)));
        return command;
    }

    internal static int Run(string configPath, IReadOnlyList<string> checkpoints, string? splitList, bool json, string deviceName, TextWriter output)
    {
        var resolved = ResolvedRun.Resolve(RunConfiguration.Load(configPath));
        if (resolved.Simulated)
        {
            throw new EvolverException($"{configPath}: task = simulated has no evaluator to score with");
        }
        if (!Actors.Run.RunSettings.IsDeviceName(deviceName))
        {
            throw new EvolverException($"--device '{deviceName}' is not a device: use cpu, cuda or cuda:N");
        }
        if (!resolved.Config.Evaluator.IsExternal && deviceName.StartsWith("cuda", StringComparison.Ordinal) && !cuda.is_available())
        {
            throw new EvolverException($"--device {deviceName}: CUDA is not available in this build");
        }
        var targets = checkpoints.Count > 0 ? [.. checkpoints.Select(Path.GetFullPath)] : resolved.Population.Members;
        foreach (var target in targets.Where(t => !Directory.Exists(t) && !File.Exists(t)))
        {
            throw new EvolverException($"{target}: no such checkpoint");
        }
        Checkpoint.RequireSameLayout([resolved.Population.Members[0], .. targets]);
        using var scorer = FitnessFactory.Scorer(resolved.Config, resolved.Population, resolved.Task, resolved.Data, device(deviceName), 0, null);
        var wanted = splitList?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [.. scorer.SplitNames];
        foreach (var split in wanted.Where(s => !scorer.SplitNames.Contains(s, StringComparer.Ordinal)))
        {
            throw new EvolverException($"--splits: the evaluator has no split '{split}' (it has {string.Join(", ", scorer.SplitNames)})");
        }
        var width = Math.Max(10, targets.Max(t => t.Length));
        if (!json)
        {
            output.WriteLine($"| {"checkpoint".PadRight(width)} |{string.Concat(wanted.Select(s => $" {s,8} |"))}");
            output.WriteLine($"|{new string('-', width + 2)}|{string.Concat(wanted.Select(_ => "---------:|"))}");
        }
        foreach (var target in targets)
        {
            using var weights = Checkpoint.Load(target);
            var scores = wanted.ToDictionary(s => s, s => scorer.Score(weights, s), StringComparer.Ordinal);
            output.WriteLine(json
                ? JsonSerializer.Serialize(new Dictionary<string, object> { ["checkpoint"] = target, ["scores"] = scores })
                : $"| {target.PadRight(width)} |{string.Concat(wanted.Select(s => string.Create(CultureInfo.InvariantCulture, $" {scores[s],8:F4} |")))}");
        }
        return 0;
    }
}
