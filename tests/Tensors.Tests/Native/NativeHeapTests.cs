using System.Runtime.InteropServices;
using EvolverActors.Tensors.Native;
using Xunit;

namespace EvolverActors.Tensors.Tests.Native;

/// <summary>Freed C-heap memory goes back to the system when asked (docs/architecture.md, "Start-up").</summary>
public sealed class NativeHeapTests
{
    private static long ResidentKb() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Freed_small_blocks_that_glibc_keeps_are_given_back()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "malloc_trim is glibc's (Linux only)");
        // 64 MB in 32 kB blocks (below the mmap threshold, so from the heap), then one block after them that stays,
        // so that freeing them leaves a hole glibc keeps rather than a top it trims by itself.
        var blocks = Enumerable.Range(0, 2048).Select(_ => Marshal.AllocHGlobal(32 * 1024)).ToList();
        var pin = Marshal.AllocHGlobal(64);
        try
        {
            foreach (var block in blocks)
            {
                for (var offset = 0; offset < 32 * 1024; offset += 4096)
                {
                    Marshal.WriteByte(block, offset, 1); // touch every page
                }
            }
            var touched = ResidentKb();
            blocks.ForEach(Marshal.FreeHGlobal);
            // glibc may already have given some of it back by itself (another arena, a trimmed top): what is asked is
            // that none of the 64 MB is resident once the heap was told to return what is free.
            _ = NativeHeap.ReturnFreedMemory();
            var after = ResidentKb();
            Assert.True(touched - after > 32 * 1024, $"resident {touched} kB with the blocks, {after} kB after freeing and returning them: less than 32 MB went back");
        }
        finally
        {
            Marshal.FreeHGlobal(pin);
        }
    }
}
