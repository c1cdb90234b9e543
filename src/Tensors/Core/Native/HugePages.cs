using System.Runtime.InteropServices;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// Asks Linux to back a memory range with transparent huge pages (2 MB) when it is first touched. Fresh anonymous
/// memory is zeroed and mapped page by page on first touch; with 4 kB pages that costs far more than a streaming pass
/// over the same bytes (in the development VM about 0.9 s per 100 MB, against ~15 ms with huge pages), so buffers that
/// are written once and then reused are asked for huge pages before their first touch (docs/architecture.md §3).
/// </summary>
public static partial class HugePages
{
    /// <summary>The huge page size transparent huge pages use on x86-64 and arm64 with 4 kB base pages.</summary>
    public const long Size = 2L << 20;

    private const int MadviseHugePage = 14; // MADV_HUGEPAGE in Linux's mman-common.h

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);

    /// <summary>
    /// Advises huge pages for the whole 2 MB pages inside [<paramref name="start"/>, <paramref name="start"/> +
    /// <paramref name="bytes"/>). A hint only: false (nothing changed) off Linux, where the kernel refuses, or where
    /// the range holds no whole huge page.
    /// </summary>
    public static bool Advise(nint start, long bytes)
    {
        var first = (start + (nint)(Size - 1)) & ~(nint)(Size - 1);
        var last = (start + (nint)bytes) & ~(nint)(Size - 1);
        if (!OperatingSystem.IsLinux() || last <= first)
        {
            return false;
        }
        try
        {
            return Madvise(first, (nuint)(last - first), MadviseHugePage) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
