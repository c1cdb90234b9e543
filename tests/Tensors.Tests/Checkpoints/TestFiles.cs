using System.Buffers.Binary;
using System.Text;

namespace EvolverActors.Tests.Checkpoints;

/// <summary>A per-test temp directory, deleted with everything in it.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "evolver-test-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        var path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>
/// Builds safetensors bytes straight from the format spec (u64 LE header length, JSON, raw LE data),
/// independently of the code under test.
/// </summary>
internal static class SafetensorsBytes
{
    /// <summary>A file: <paramref name="pad"/> adds spaces so that 8 + header length is a multiple of 8, as HF does.</summary>
    public static byte[] File(string headerJson, byte[] data, bool pad = true)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        if (pad && header.Length % 8 != 0)
        {
            header = [.. header, .. Enumerable.Repeat((byte)' ', 8 - (header.Length % 8))];
        }
        return [.. U64((ulong)header.Length), .. header, .. data];
    }

    public static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] F32(params float[] values) =>
        [.. values.SelectMany(v => { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); return b; })];

    public static byte[] I64(params long[] values) =>
        [.. values.SelectMany(v => { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); return b; })];

    public static byte[] I32(params int[] values) =>
        [.. values.SelectMany(v => { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return b; })];

    /// <summary>Raw 16-bit patterns, for F16 and BF16 values written by hand.</summary>
    public static byte[] Bits16(params ushort[] values) =>
        [.. values.SelectMany(v => { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; })];

    /// <summary>A one-tensor F32 file whose header entry is given verbatim (for malformed cases).</summary>
    public static byte[] OneTensor(string entryJson, int dataBytes) =>
        File("{\"t\":" + entryJson + "}", new byte[dataBytes]);
}
