using System.Diagnostics;
using System.Text.Json.Nodes;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench eval --task mnist-noniid`: how fast the evaluator core scores candidates on the dev split:
/// copy a member into the resident skeleton (load_ms), then score it; members are cycled so every load is real.
/// </summary>
internal static class EvalBenchmark
{
    public static JsonObject Run(string task, string? zooDirectory, int seed, int evaluations, Device device, TextWriter log)
    {
        if (task != MnistNonIidRecipe.Name)
        {
            throw new EvolverException($"bench eval supports --task {MnistNonIidRecipe.Name} (got '{task}')");
        }
        var directory = zooDirectory ?? ZooCommand.DefaultDirectory(task, seed, quick: false);
        if (!File.Exists(Path.Combine(directory, ZooManifest.FileName)))
        {
            log.WriteLine($"no zoo at {directory}: building it first");
            ZooCommand.BuildZoo(task, directory, seed, quick: false, taskFile: null, dataDir: null, device, log);
        }
        var manifest = ZooManifest.Load(directory);
        var options = TaskSettings.MnistNonIid(HoconFiles.LoadTask(task));
        var dev = MnistNonIidRecipe.LoadData(AssetStore.Default, manifest.Seed, options).Dev;
        var members = manifest.Models.Select(m => Checkpoint.Load(Path.Combine(directory, m.Path))).ToList();
        try
        {
            using var evaluator = new ResidentEvaluator(new CnnClassifier(classes: dev.ClassCount), new ImageBatcher(), [dev], device);
            for (var i = 0; i < 3; i++)
            {
                Score(evaluator, members[i % members.Count]);
            }
            var loads = new double[evaluations];
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < evaluations; i++)
            {
                Score(evaluator, members[i % members.Count]);
                loads[i] = evaluator.LastLoadMs;
            }
            var perSecond = evaluations / watch.Elapsed.TotalSeconds;
            var loadMs = Timing.Median(loads);
            log.WriteLine($"{evaluations} evaluations of {members.Count} members on {dev.Count} dev digits ({device}): {perSecond:F1} evals/s, load {loadMs:F3} ms");
            return new JsonObject
            {
                ["bench"] = "eval",
                ["task"] = task,
                ["evals_per_s"] = Math.Round(perSecond, 2),
                ["load_ms"] = Math.Round(loadMs, 3),
                ["examples"] = dev.Count,
            };
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }
    }

    private static void Score(ResidentEvaluator evaluator, WeightSet member)
    {
        evaluator.Load(member);
        evaluator.Evaluate("dev");
    }
}
