using System.Diagnostics;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Storage;

/// <summary>Tiny weight sets and process ids for the storage tests.</summary>
internal static class StorageFixtures
{
    /// <summary>Two tensors (f32 2×3 and i64 4) whose values depend on <paramref name="seed"/>.</summary>
    public static WeightSet Tiny(float seed = 1f) => WeightSet.Adopt(
    [
        ("layer.weight", tensor(new[] { seed, seed + 1, seed + 2, seed + 3, seed + 4, seed + 5 }).reshape(2, 3)),
        ("layer.steps", tensor(new long[] { 1, 2, 3, (long)seed })),
    ]);

    /// <summary>Bytes of tensor data in <see cref="Tiny"/>: 6 floats and 4 longs.</summary>
    public const long TinyBytes = (6 * 4) + (4 * 8);

    public static float[] Floats(WeightSet weights, string name) => weights[name].data<float>().ToArray();

    /// <summary>The pid of a process that has exited and been reaped.</summary>
    public static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    /// <summary>A live child process (sleep); kill it with <see cref="Stop"/>.</summary>
    public static Process Sleeper() =>
        Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

    public static void Stop(Process process)
    {
        process.Kill();
        process.WaitForExit();
        process.Dispose();
    }
}
