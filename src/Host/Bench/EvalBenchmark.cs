using System.Diagnostics;
using System.Text.Json.Nodes;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench eval --task NAME|FILE [--zoo DIR]`: how fast the evaluator core scores candidates on the task's dev
/// split: copy a member into the resident skeleton (load_ms), then score it; members are cycled so every load is real.
/// A task with a zoo recipe builds its default zoo when none is given and none exists.
/// </summary>
internal static class EvalBenchmark
{
    public static JsonObject Run(string task, string? zooDirectory, int seed, int evaluations, Device device, TextWriter log)
    {
        var resolved = TaskConfigs.Load(task, quick: false);
        var directory = zooDirectory ?? ZooCommand.DefaultDirectory(resolved.Kind, seed, quick: false);
        if (!File.Exists(Path.Combine(directory, ZooManifest.FileName)))
        {
            if (zooDirectory is not null || TaskRegistry.Get(resolved.Kind) is not IZooRecipe)
            {
                var hint = zooDirectory is null ? $"; a '{resolved.Kind}' task has no zoo recipe: give --zoo DIR" : "";
                throw new EvolverException($"{directory}: no zoo here (no {ZooManifest.FileName}){hint}");
            }
            log.WriteLine($"no zoo at {directory}: building it first");
            ZooCommand.BuildZoo(resolved.Kind, directory, seed, quick: false, taskFile: null, dataDir: null, device, log);
        }
        var manifest = ZooManifest.Load(directory);
        var paths = manifest.Models.Select(m => Path.Combine(directory, m.Path)).ToList();
        var data = resolved.Load(new TaskLoadContext(manifest.Seed, paths[0]));
        var (dev, batcher) = (data.Dev, data.Batcher);
        var members = paths.Select(p => Checkpoint.Load(p, floatType: ScalarType.Float32)).ToList();
        try
        {
            var skeleton = ModelFamilies.SkeletonFor(resolved.Family, members[0], Directory.Exists(paths[0]) ? paths[0] : Path.GetDirectoryName(paths[0])!);
            using var evaluator = new ResidentEvaluator(skeleton, batcher, [dev], device);
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
            log.WriteLine($"{evaluations} evaluations of {members.Count} members on {dev.Count} dev examples ({device}): {perSecond:F1} evals/s, load {loadMs:F3} ms");
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
