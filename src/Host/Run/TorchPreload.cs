using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// libtorch's native load, started on a thread of its own as the first thing `evolver run` does. It takes about 0.9 s
/// here and holds the dynamic loader's lock throughout (a thread that resolves any other native function waits), so it
/// is the longest step before a resumed run evaluates again; starting it before the command line and the
/// configuration are even parsed hides what it can (docs/architecture.md, "Start-up").
/// </summary>
internal static class TorchPreload
{
    private static readonly Lazy<Task> Load = new(() => Task.Factory.StartNew(() =>
    {
        InitializeDeviceType(TorchSharp.DeviceType.CPU);
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("libtorch loaded");
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)); // a thread of its own, not one of the pool's

    /// <summary>Starts the load (once per process).</summary>
    public static void Start() => _ = Load.Value;

    /// <summary>Completes when libtorch is loaded (starting the load if nobody has).</summary>
    public static Task Loaded => Load.Value;
}
