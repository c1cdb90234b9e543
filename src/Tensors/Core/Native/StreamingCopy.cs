using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// A plain streaming copy on every core, with the same memory access pattern as <c>FusedCpuKernel</c>: chunks in
/// parallel, the widest vector loads, non-temporal stores. A copy bandwidth reference for benchmarks (torch's <c>copy_</c> uses
/// ordinary stores, which also read the destination), so a kernel is compared with the best plain copy, not a slow one.
/// </summary>
public static unsafe class StreamingCopy
{
    private const long ChunkBytes = 1L << 20;

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/>: contiguous CPU tensors of equal byte size.</summary>
    public static void Copy(Tensor source, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        var bytes = source.numel() * source.element_size();
        if (destination.numel() * destination.element_size() != bytes)
        {
            throw new ArgumentException("source and destination differ in size", nameof(destination));
        }
        var from = (nint)TensorMemory.BytePointer(source);
        var to = (nint)TensorMemory.BytePointer(destination);
        var chunks = (int)((bytes + ChunkBytes - 1) / ChunkBytes);
        Parallel.For(0, chunks, c =>
        {
            var start = c * ChunkBytes;
            CopyChunk((byte*)(from + (nint)start), (byte*)(to + (nint)start), Math.Min(ChunkBytes, bytes - start));
        });
    }

    private static void CopyChunk(byte* from, byte* to, long count)
    {
        long j = 0;
        var alignment = Vector512.IsHardwareAccelerated ? 63 : 31;
        while (j < count && ((nint)(to + j) & alignment) != 0)
        {
            to[j] = from[j];
            j++;
        }
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 64 <= count; j += 64)
            {
                Vector512.StoreAlignedNonTemporal(Vector512.Load(from + j), to + j);
            }
        }
        for (; j + 32 <= count; j += 32)
        {
            Vector256.StoreAlignedNonTemporal(Vector256.Load(from + j), to + j);
        }
        for (; j < count; j++)
        {
            to[j] = from[j];
        }
    }
}
