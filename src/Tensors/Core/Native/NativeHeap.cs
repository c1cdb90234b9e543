using System.Runtime.InteropServices;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// The C heap that libtorch allocates tensors from. glibc serves blocks below its mmap threshold from its heaps and
/// keeps them there once freed; the threshold starts at 128 kB and grows (up to 32 MB) each time a larger mmapped
/// block is freed. A process that allocates and frees tensor-sized blocks again and again, as a streaming merge does
/// for every tensor, therefore keeps several freed tensors resident, more or fewer by chance.
/// </summary>
public static partial class NativeHeap
{
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD in glibc's malloc.h

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>
    /// Gives the free pages inside glibc's heaps back to the system (<c>malloc_trim(0)</c>). libtorch's start (operator
    /// registration) and the start-up warm-ups allocate and free tens of MB that glibc otherwise keeps resident for the
    /// life of the process: a node trimmed once after its start-up ran 398–407 MB where it ran 457–467 (`evolver bench
    /// overhead`). Returns whether any memory went back (false off Linux or without malloc_trim).
    /// </summary>
    public static bool ReturnFreedMemory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            return MallocTrim(0) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);

    /// <summary>
    /// Fixes glibc's mmap threshold at 1 MB for this process: every larger block gets a mapping of its own that goes
    /// back to the system when it is freed, so resident memory follows the tensors alive. Returns whether it was set
    /// (false off Linux or on a C library without mallopt, where nothing changes).
    /// </summary>
    public static bool ReturnLargeBlocksOnFree()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            return Mallopt(MmapThresholdParameter, 1 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
