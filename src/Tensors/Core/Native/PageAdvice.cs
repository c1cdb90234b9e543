using System.Runtime.InteropServices;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// Hands the pages of a memory-mapped range back to the kernel (madvise MADV_DONTNEED). For a private, read-only use of
/// a file mapping this drops the pages from the process's resident set; the next read faults them in again from the
/// page cache, with the file's bytes. Used to stream memory-mapped weights tensor by tensor (docs/architecture.md §3).
/// </summary>
internal static partial class PageAdvice
{
    private const int DontNeed = 4; // MADV_DONTNEED on Linux
    private static readonly long PageSize = Environment.SystemPageSize;
    private static bool _unavailable = !OperatingSystem.IsLinux();

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

    /// <summary>Drops the whole pages inside [start, start + bytes) from the resident set (a no-op off Linux).</summary>
    public static unsafe void DropPages(byte* start, long bytes)
    {
        if (_unavailable || bytes <= 0)
        {
            return;
        }
        // Only whole pages inside the range: a partial page at either end may belong to a neighbour still in use.
        var first = ((long)start + PageSize - 1) / PageSize * PageSize;
        var end = ((long)start + bytes) / PageSize * PageSize;
        if (end <= first)
        {
            return;
        }
        try
        {
            _ = Madvise((nint)first, (nuint)(end - first), DontNeed);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
        }
    }
}
