using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tests.Checkpoints;
using static TorchSharp.torch;

namespace EvolverActors.Tests.External;

/// <summary>
/// What a lab brings, made on the spot: a population of `cnn` checkpoints in bf16 (one of them sharded), IDX data
/// files, and Python evaluators (the PyTorch example worker, and stdlib scripts that misbehave on purpose).
/// </summary>
internal static class ExternalFixtures
{
    /// <summary>Debian's interpreter (python3-torch is installed for it; another python3 may come first on PATH).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The repository's example worker (tests run from tests/EvolverActors.Tests/bin/Release/net10.0).</summary>
    public static string ExampleWorker => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples", "python-worker", "worker.py"));

    /// <summary><paramref name="count"/> random cnn classifiers saved as bf16; member 1 is sharded into several files.</summary>
    public static IReadOnlyList<string> Population(TempDir dir, int count = 4)
    {
        var paths = new List<string>();
        for (var k = 0; k < count; k++)
        {
            using var scope = NewDisposeScope();
            random.manual_seed(100 + k);
            using var model = new CnnClassifier(10);
            using var f32 = model.ExportWeights();
            var staging = dir.File($"staging-{k}");
            Checkpoint.Save(staging, f32);
            using var bf16 = Checkpoint.Load(staging, floatType: ScalarType.BFloat16);
            var path = dir.File($"member-{k}");
            Checkpoint.Save(path, bf16, maxShardBytes: k == 1 ? 60_000 : long.MaxValue);
            Directory.Delete(staging, recursive: true);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>dev / test / ood splits of random 28×28 digits as IDX files ({split}-images.idx, {split}-labels.idx).</summary>
    public static string IdxData(TempDir dir, int examples = 64)
    {
        var data = dir.File("data");
        Directory.CreateDirectory(data);
        var rng = new Random(5);
        foreach (var split in new[] { "dev", "test", "ood" })
        {
            var images = new byte[examples * 28 * 28];
            rng.NextBytes(images);
            WriteIdx(Path.Combine(data, $"{split}-images.idx"), [examples, 28, 28], images);
            WriteIdx(Path.Combine(data, $"{split}-labels.idx"), [examples], [.. Enumerable.Range(0, examples).Select(i => (byte)rng.Next(10))]);
        }
        return data;
    }

    public static void WriteIdx(string path, int[] dims, byte[] data)
    {
        using var file = File.Create(path);
        file.Write([0, 0, 0x08, (byte)dims.Length]);
        foreach (var dim in dims)
        {
            file.Write([(byte)(dim >> 24), (byte)(dim >> 16), (byte)(dim >> 8), (byte)dim]);
        }
        file.Write(data);
    }

    /// <summary>A stdlib Python worker whose reply to request n (1-based) <paramref name="replyExpression"/> decides: a JSON line, or null to exit 3.</summary>
    public static string ScriptWorker(TempDir dir, string name, string replyExpression)
    {
        var path = dir.File(name + ".py");
        File.WriteAllText(path, $$"""
            import json, os, sys
            state = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{{name}}.count")
            for line in sys.stdin:
                request = json.loads(line)
                n = (int(open(state).read()) if os.path.exists(state) else 0) + 1
                open(state, "w").write(str(n))
                reply = {{replyExpression}}
                if reply is None:
                    print("crashing on purpose at request %d" % n, file=sys.stderr, flush=True)
                    sys.exit(3)
                print(reply, flush=True)
            """);
        return path;
    }
}
