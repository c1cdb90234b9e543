using System.Runtime.InteropServices;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// Keeps glibc from handing large freed blocks back to the kernel. libtorch allocates every activation afresh; with
/// glibc's defaults a block over its dynamic mmap threshold is mapped and unmapped per forward pass, and the kernel
/// zeroes each page again. Scoring MiniLM's top layer on 768 texts here spent a third of its time in the kernel
/// (sys 111 s of 213 s) before this, and ran 1.5× faster after (`evolver bench eval`, docs/architecture.md §5). Blocks up
/// to 32 MB (glibc's largest mmap threshold) are then reused from the heap; freed memory stays in the process.
/// Skipped when the user sets <c>MALLOC_MMAP_THRESHOLD_</c> or <c>MALLOC_TRIM_THRESHOLD_</c> themselves, and off Linux.
/// </summary>
public static partial class HeapTuning
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD
    private const int LargestMmapThreshold = 32 << 20;
    private const int KeepUpTo = 1 << 30;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);

    /// <summary>Applies the settings once per process; false where they do not apply (not Linux, user settings, no glibc).</summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            return false;
        }
        try
        {
            return Mallopt(MmapThreshold, LargestMmapThreshold) == 1 && Mallopt(TrimThreshold, KeepUpTo) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // musl and other C libraries: their own defaults
        }
    }
}
