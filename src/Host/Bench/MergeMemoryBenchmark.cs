using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench merge-memory`: writes N synthetic float32 models of a chosen size, then runs `evolver merge` on them
/// in a child process and samples the child's peak resident set (VmHWM of /proc/PID/status) while it runs, so the
/// bench's own model writing does not count. A streaming merge keeps that peak at a few tensors whatever the models'
/// size; the same child on two tiny models gives the process's floor (runtime and libtorch) for comparison.
/// </summary>
internal static class MergeMemoryBenchmark
{
    private const int Columns = 1000;
    private const long BytesPerMb = 1_000_000;

    public static JsonObject Run(int modelMb, int models, int tensorMb, string method, string? scratch, TextWriter log)
    {
        if (modelMb <= 0 || tensorMb <= 0 || models < 2)
        {
            throw new EvolverException("bench merge-memory: --model-mb and --tensor-mb must be positive and --models at least 2");
        }
        var needsBase = NeedsBase(method);
        var root = Path.Combine(Path.GetFullPath(scratch ?? Path.GetTempPath()), "evolver-bench-merge-memory-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var specs = Layout(modelMb, tensorMb);
            var watch = Stopwatch.StartNew();
            var paths = Enumerable.Range(0, models).Select(k => WriteModel(Path.Combine(root, $"model-{k}"), specs, seed: 100 + k)).ToList();
            var basePath = needsBase ? WriteModel(Path.Combine(root, "base"), specs, seed: 99) : null;
            log.WriteLine($"wrote {models} models of {modelMb} MB ({specs.Count} float32 tensors, the largest {SafetensorsWriter.DataBytes(specs[0]) / 1e6:F0} MB) in {watch.Elapsed.TotalSeconds:F1} s under {root}");

            var tiny = Layout(1, 1);
            var floorPaths = Enumerable.Range(0, 2).Select(k => WriteModel(Path.Combine(root, $"tiny-{k}"), tiny, seed: k)).ToList();
            var (floorMb, _) = Child(["merge", "-m", "average", "--out", Path.Combine(root, "tiny-out"), .. floorPaths]);

            string[] args = ["merge", "-m", method, "--out", Path.Combine(root, "merged"), .. basePath is null ? Array.Empty<string>() : ["--base", basePath], .. paths];
            var (peakMb, seconds) = Child(args);
            var files = Directory.GetFiles(Path.Combine(root, "merged"), "*.safetensors").Length;
            var inputMb = (double)modelMb * (models + (needsBase ? 1 : 0));
            log.WriteLine($"evolver merge -m {method} of {models} x {modelMb} MB ({inputMb:F0} MB read): peak RSS {peakMb:F0} MB " +
                $"(a process merging two 1 MB models: {floorMb:F0} MB), {seconds:F1} s, {files} output file(s)");
            return new JsonObject
            {
                ["bench"] = "merge-memory",
                ["model_mb"] = modelMb,
                ["models"] = models,
                ["method"] = method,
                ["tensor_mb"] = Math.Round(SafetensorsWriter.DataBytes(specs[0]) / 1e6, 1),
                ["peak_rss_mb"] = Math.Round(peakMb, 1),
                ["floor_rss_mb"] = Math.Round(floorMb, 1),
                ["seconds"] = Math.Round(seconds, 2),
            };
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static bool NeedsBase(string method)
    {
        try
        {
            MergeRegistry.Get(method).Begin(hasBase: false, CPU).Dispose();
            return false;
        }
        catch (EvolverException) when (MergeRegistry.Contains(method))
        {
            return true;
        }
    }

    /// <summary>Tensors [rows, 1000] of <paramref name="tensorMb"/> MB each (the last one smaller) adding up to <paramref name="modelMb"/> MB.</summary>
    internal static List<TensorSpec> Layout(long modelMb, int tensorMb, ScalarType dtype = ScalarType.Float32)
    {
        var size = DTypes.SizeOf(dtype);
        var rowsPerTensor = Math.Max(1, tensorMb * BytesPerMb / (Columns * size));
        var rows = Math.Max(1, modelMb * BytesPerMb / (Columns * size));
        var specs = new List<TensorSpec>();
        for (var i = 0; rows > 0; i++)
        {
            var take = Math.Min(rows, rowsPerTensor);
            specs.Add(new TensorSpec(string.Create(CultureInfo.InvariantCulture, $"layers.{i}.weight"), [take, Columns], dtype));
            rows -= take;
        }
        return specs;
    }

    /// <summary>A model of random normal tensors, written tensor by tensor (never whole in memory).</summary>
    internal static string WriteModel(string directory, IReadOnlyList<TensorSpec> specs, long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var writer = new CheckpointWriter(directory, specs, new Dictionary<string, string> { ["format"] = "pt" }, durable: false);
        foreach (var spec in specs)
        {
            using var scope = NewDisposeScope();
            writer.Write(spec.Name, randn(spec.Shape, generator: generator).to(spec.DType));
        }
        writer.Commit();
        return directory;
    }

    /// <summary>Runs this executable with <paramref name="args"/>; its peak RSS in MB (sampled every 10 ms) and wall seconds.</summary>
    internal static (double PeakMb, double Seconds) Child(IReadOnlyList<string> args, string bench = "merge-memory")
    {
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(EvolverChild.StartInfo(args))!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        var status = $"/proc/{process.Id}/status";
        long peakKb = 0;
        while (!process.HasExited)
        {
            peakKb = Math.Max(peakKb, HighWaterKb(status));
            Thread.Sleep(10);
        }
        process.WaitForExit();
        var seconds = watch.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new EvolverException($"bench {bench}: 'evolver {string.Join(' ', args)}' exited with {process.ExitCode}: {error.Result.Trim()}");
        }
        _ = output.Result;
        if (peakKb == 0)
        {
            throw new EvolverException($"bench merge-memory: could not read the child's peak RSS from {status} (Linux only)");
        }
        return (peakKb / 1024.0, seconds);
    }

    /// <summary>VmHWM in kB from a /proc status file, or 0 when it cannot be read (the process has gone).</summary>
    private static long HighWaterKb(string status)
    {
        try
        {
            var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb) ? kb : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
