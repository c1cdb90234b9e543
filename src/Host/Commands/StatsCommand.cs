using System.CommandLine;
using EvolverActors.Host.Config;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver stats --task NAME --model PATH --out DIR</c>: a checkpoint's diagonal Fisher and RegMean Gram matrices
/// on the task's dev inputs (labels are not used), for <c>evolver merge --method fisher|regmean</c>.
/// </summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var task = new Option<string>("--task") { Description = "task whose data and model family to use: a built-in task (mnist-noniid, sentiment-minilm) or a task file", Required = true };
        var model = new Option<string>("--model") { Description = "the checkpoint (directory or .safetensors)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "output directory for fisher.safetensors and gram.safetensors", Required = true };
        var seed = new Option<int>("--seed") { Description = "data split seed", DefaultValueFactory = _ => 0 };
        var fisher = new Option<int>("--fisher-examples") { Description = "examples for the Fisher diagonal (0 skips it)", DefaultValueFactory = _ => 256 };
        var gram = new Option<int>("--gram-examples") { Description = "examples for the Gram matrices (0 skips them)", DefaultValueFactory = _ => 512 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var command = new Command("stats", "compute Fisher and RegMean statistics of a checkpoint on a task's data");
        foreach (var option in new Option[] { task, model, output, seed, fisher, gram, device })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var name = result.GetValue(task)!;
            var path = result.GetValue(model)!;
            var d = DeviceNames.Parse(result.GetValue(device)!, "--device");
            var resolved = TaskConfigs.Load(name, quick: false);
            var taskData = resolved.Load(new TaskLoadContext(result.GetValue(seed), path));
            var (family, data, batcher) = (resolved.Family, taskData.Dev, taskData.Batcher);
            using var weights = Checkpoint.Load(path, floatType: TorchSharp.torch.ScalarType.Float32);
            var directory = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
            using var skeleton = ModelFamilies.SkeletonFor(family, weights, directory);
            skeleton.LoadWeights(weights);
            var outputDir = result.GetValue(output)!;
            Directory.CreateDirectory(outputDir);
            var fisherExamples = result.GetValue(fisher);
            var gramExamples = result.GetValue(gram);
            if (fisherExamples > 0)
            {
                using var f = MergeStatistics.Fisher(skeleton, batcher, data, fisherExamples, result.GetValue(seed), d);
                StatisticsFiles.Save(Path.Combine(outputDir, "fisher.safetensors"), f, StatisticsKind.Fisher);
            }
            if (gramExamples > 0)
            {
                using var g = MergeStatistics.Grams(skeleton, batcher, data, gramExamples, d);
                StatisticsFiles.Save(Path.Combine(outputDir, "gram.safetensors"), g, StatisticsKind.Gram);
            }
            Console.WriteLine($"statistics of {path} on {Math.Max(fisherExamples, gramExamples)} or fewer {name} dev examples written to {outputDir}");
            return 0;
        }));
        return command;
    }
}
