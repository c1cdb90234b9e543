using System.Diagnostics;

namespace EvolverActors.Tensors.Diagnostics;

/// <summary>
/// With <c>EVOLVER_TRACE_STARTUP=1</c>, one line on stderr per step of a node's start-up, timed from the process's start
/// (what `evolver bench resume` measures; docs/architecture.md, "Start-up"). Off, a mark costs one branch.
/// </summary>
public static class StartupTrace
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("EVOLVER_TRACE_STARTUP") == "1";
    private static readonly DateTime ProcessStart = Enabled ? Process.GetCurrentProcess().StartTime.ToUniversalTime() : default;

    /// <summary>Writes <c>startup +N ms: step</c> (on the calling thread; the line names it when it is not the main one).</summary>
    public static void Mark(string step)
    {
        if (Enabled)
        {
            Console.Error.WriteLine($"startup +{(DateTime.UtcNow - ProcessStart).TotalMilliseconds:F0} ms: {step} [thread {Environment.CurrentManagedThreadId}]");
        }
    }

    /// <summary>Marks <paramref name="step"/> the first time any caller reaches it (e.g. the first decision).</summary>
    public static void MarkFirst(string step, ref int flag)
    {
        if (Enabled && Interlocked.Exchange(ref flag, 1) == 0)
        {
            Mark(step);
        }
    }
}
