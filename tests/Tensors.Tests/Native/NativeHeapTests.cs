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
            blocks.ForEach(Marshal.FreeHGlobal);
            var before = ResidentKb();
            Assert.True(NativeHeap.ReturnFreedMemory());
            var after = ResidentKb();
            Assert.True(before - after > 32 * 1024, $"resident {before} kB before, {after} kB after: less than 32 MB went back");
        }
        finally
        {
            Marshal.FreeHGlobal(pin);
        }
    }
}
