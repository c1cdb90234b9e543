using System.Text.Json.Nodes;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench evaluator`: what the external worker path costs per candidate against the built-in evaluator on the
/// same population. Candidates are `cnn` classifiers (image size sets the model size); the built-in evaluator scores
/// them on synthetic dev images; the worker path writes each to scratch as a checkpoint and asks a no-op Python worker
/// that answers at once. Also the scratch device's sequential write bandwidth, measured in the same run, so that the
/// candidate write is judged against what the device can do. Medians of interleaved repetitions.
/// </summary>
internal static class EvaluatorBenchmark
{
    private const string NoOpWorker = """
        import json, sys
        for line in sys.stdin:
            print(json.dumps({"id": json.loads(line)["id"], "score": 0.0}), flush=True)
        """;

    public static JsonObject Run(int imageSize, int examples, int repetitions, string scratch, TextWriter log)
    {
        var root = Path.Combine(Path.GetFullPath(scratch), $"bench-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        try
        {
            var candidates = new List<WeightSet>();
            for (var k = 0; k < 2; k++)
            {
                random.manual_seed(k);
                using var model = new CnnClassifier(10, imageSize);
                candidates.Add(model.ExportWeights());
            }
            var modelBytes = candidates[0].Layout.Specs.Sum(SafetensorsWriter.DataBytes);
            log.WriteLine($"candidates: cnn at {imageSize}×{imageSize}, {modelBytes / 1e6:F1} MB each; {examples} dev images; scratch {root}");

            using var builtin = new ResidentScorer(new ResidentEvaluator(new CnnClassifier(10, imageSize), new ImageBatcher(), [DevImages(examples, imageSize)], CPU), Metric.Accuracy);
            var workerScript = Path.Combine(root, "noop_worker.py");
            File.WriteAllText(workerScript, NoOpWorker);
            using var worker = new ExternalCandidateScorer(
                new WorkerEvaluator("noop", ["/usr/bin/python3", workerScript], TimeSpan.FromMinutes(1)),
                new CandidateWriter(root, "candidates", firstMember: null), ["dev"]);
            var sequential = Path.Combine(root, "sequential.bin");
            var buffer = new byte[1 << 20];
            Random.Shared.NextBytes(buffer);

            var turn = 0;
            var writes = new List<double>();
            var times = Timing.InterleavedMedianMs(repetitions,
                () => builtin.Score(candidates[turn % 2], "dev"),
                () =>
                {
                    worker.Score(candidates[turn++ % 2], "dev");
                    writes.Add(worker.LastWriteMs);
                },
                () => WriteSequentially(sequential, modelBytes, buffer));
            var (builtinMs, workerMs, sequentialMs) = (times[0], times[1], times[2]);
            var writeMs = Timing.Median([.. writes.Skip(2)]);
            candidates.ForEach(c => c.Dispose());

            var megabytes = modelBytes / 1e6;
            var result = new JsonObject
            {
                ["bench"] = "evaluator",
                ["builtin_ms"] = Math.Round(builtinMs, 3),
                ["worker_ms"] = Math.Round(workerMs, 3),
                ["write_ms"] = Math.Round(writeMs, 3),
                ["worker_overhead_ms"] = Math.Round(workerMs - writeMs, 3),
                ["write_mb_per_s"] = Math.Round(megabytes / (writeMs / 1000), 1),
                ["scratch_seq_write_mb_per_s"] = Math.Round(megabytes / (sequentialMs / 1000), 1),
                ["write_ratio"] = Math.Round(sequentialMs / writeMs, 3),
                ["model_mb"] = Math.Round(megabytes, 2),
                ["examples"] = examples,
            };
            log.WriteLine($"targets: worker_overhead_ms <= 5 (got {result["worker_overhead_ms"]}), write_ratio >= 0.5 (got {result["write_ratio"]})");
            return result;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static ImageSet DevImages(int count, int size)
    {
        var rng = new Random(3);
        var images = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size * size).Select(_ => (float)rng.NextDouble()).ToArray()).ToList();
        return new ImageSet("dev", images, size, size, [.. Enumerable.Range(0, count).Select(i => i % 10)], [.. Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    /// <summary>The device's sequential write of the same number of bytes, as the candidate writer does it (no fsync), then removed.</summary>
    private static void WriteSequentially(string path, long bytes, byte[] buffer)
    {
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            for (var left = bytes; left > 0; left -= buffer.Length)
            {
                stream.Write(buffer, 0, (int)Math.Min(left, buffer.Length));
            }
        }
        File.Delete(path);
    }
}
