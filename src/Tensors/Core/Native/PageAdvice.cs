using System.Runtime.InteropServices;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// Hands the pages of a memory-mapped range back to the kernel (madvise MADV_DONTNEED), or maps them in one call before a
/// read (MADV_POPULATE_READ). For a private, read-only use of a file mapping, dropping takes the pages out of the
/// process's resident set; the next read faults them in again from the page cache, with the file's bytes. Populating
/// replaces one page fault per 64 kB read (a large share of a streamed merge's time in a VM) by one system call. Used
/// to stream memory-mapped weights tensor by tensor (docs/architecture.md §3). Also asks for transparent huge pages
/// (MADV_HUGEPAGE) on buffers written again and again: fresh memory is mapped on first touch, 4 kB at a time otherwise.
/// </summary>
internal static partial class PageAdvice
{
    private const int DontNeed = 4; // MADV_DONTNEED on Linux
    private const int PopulateRead = 22; // MADV_POPULATE_READ, Linux 5.14 and later
    private const int HugePage = 14; // MADV_HUGEPAGE

    /// <summary>The huge page size transparent huge pages use on x86-64 and arm64 with 4 kB base pages.</summary>
    public const long HugePageSize = 2L << 20;
    private static readonly long PageSize = Environment.SystemPageSize;
    private static bool _unavailable = !OperatingSystem.IsLinux();
    private static bool _populateUnavailable = !OperatingSystem.IsLinux();

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
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

    /// <summary>
    /// Maps the pages of [start, start + bytes) into the process in one call, reading them from the file where the page
    /// cache lacks them; a hint: where the kernel refuses (older than 5.14, off Linux), reads fault them in as before.
    /// </summary>
    public static unsafe void PopulatePages(byte* start, long bytes)
    {
        if (_populateUnavailable || bytes <= 0)
        {
            return;
        }
        var first = (long)start / PageSize * PageSize;
        var end = ((long)start + bytes + PageSize - 1) / PageSize * PageSize;
        try
        {
            if (Madvise((nint)first, (nuint)(end - first), PopulateRead) != 0 && Marshal.GetLastPInvokeError() == 22)
            {
                _populateUnavailable = true; // EINVAL: this kernel does not know the advice
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _populateUnavailable = true;
        }
    }

    /// <summary>
    /// Advises huge pages for the whole 2 MB pages inside [<paramref name="start"/>, <paramref name="start"/> +
    /// <paramref name="bytes"/>), before their first touch. A hint only: false (nothing changed) off Linux, where the
    /// kernel refuses, or where the range holds no whole huge page.
    /// </summary>
    public static bool AdviseHugePages(nint start, long bytes)
    {
        var first = (start + (nint)(HugePageSize - 1)) & ~(nint)(HugePageSize - 1);
        var last = (start + (nint)bytes) & ~(nint)(HugePageSize - 1);
        if (!OperatingSystem.IsLinux() || last <= first)
        {
            return false;
        }
        try
        {
            return Madvise(first, (nuint)(last - first), HugePage) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
