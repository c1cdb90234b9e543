using Microsoft.Win32.SafeHandles;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>Positional reads and chunked writes of raw bytes (spans are limited to 2 GB, tensors are not).</summary>
internal static unsafe class RawFile
{
    private const int Chunk = 1 << 30;

    /// <summary>Safetensors stores little-endian bytes; we copy them verbatim, so the host must match.</summary>
    public static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors I/O needs a little-endian machine");
        }
    }

    /// <summary>Fills <paramref name="count"/> bytes at <paramref name="dest"/> from the file at <paramref name="offset"/>.</summary>
    public static void ReadExactly(SafeFileHandle handle, string path, byte* dest, long count, long offset)
    {
        while (count > 0)
        {
            var n = RandomAccess.Read(handle, new Span<byte>(dest, (int)Math.Min(count, Chunk)), offset);
            if (n == 0)
            {
                // The header was checked against the length at open: the file shrank underneath us.
                throw new CheckpointFormatException(path, "file is truncated: it ended while reading tensor data");
            }
            dest += n;
            count -= n;
            offset += n;
        }
    }

    public static void ReadExactly(SafeFileHandle handle, string path, Span<byte> dest, long offset)
    {
        fixed (byte* p = dest)
        {
            ReadExactly(handle, path, p, dest.Length, offset);
        }
    }

    public static void Write(Stream stream, byte* source, long count)
    {
        while (count > 0)
        {
            var n = (int)Math.Min(count, Chunk);
            stream.Write(new ReadOnlySpan<byte>(source, n));
            source += n;
            count -= n;
        }
    }

    /// <summary>Writes <paramref name="count"/> bytes from <paramref name="source"/> into the file at <paramref name="offset"/>.</summary>
    public static void WriteAt(SafeFileHandle handle, byte* source, long count, long offset)
    {
        while (count > 0)
        {
            var n = (int)Math.Min(count, Chunk);
            RandomAccess.Write(handle, new ReadOnlySpan<byte>(source, n), offset);
            source += n;
            count -= n;
            offset += n;
        }
    }

    /// <summary>The temp file name <see cref="WriteAtomically"/> writes <paramref name="full"/> through (same directory, hidden).</summary>
    public static string TempPath(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");

    /// <summary>
    /// Writes a file through a temp file in the same directory, fsynced and then renamed over the
    /// final name, so a crash leaves either the old file or the whole new one, never half a file.
    /// </summary>
    public static void WriteAtomically(string path, Action<FileStream> write, bool durable = true)
    {
        var full = Path.GetFullPath(path);
        var temp = TempPath(full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: durable);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
