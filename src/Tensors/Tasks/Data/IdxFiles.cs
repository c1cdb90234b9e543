using System.Buffers.Binary;
using System.IO.Compression;

namespace EvolverActors.Tensors.Data;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.): a big-endian header (two zero bytes, a type byte, the
/// number of dimensions), the dimensions as big-endian int32, then the values. Images are 3-D
/// [count, rows, columns] of unsigned bytes (0..255, scaled to [0, 1]) or float32 (already in [0, 1]); labels are 1-D
/// unsigned bytes or int32. A file may be gzip-compressed (found by its magic bytes, whatever its name).
/// </summary>
public static class IdxFiles
{
    private const byte UnsignedByte = 0x08;
    private const byte Int32 = 0x0C;
    private const byte Float32 = 0x0D;

    /// <summary>The images of an IDX image file: pixels row-major in [0, 1], with their side lengths.</summary>
    public static (IReadOnlyList<float[]> Images, int Rows, int Columns) ReadImages(string path)
    {
        var (type, dims, data) = Read(path);
        if (dims.Length != 3)
        {
            throw new EvolverException($"{path}: an IDX image file has 3 dimensions [count, rows, columns], this one {dims.Length}");
        }
        var (count, rows, columns) = (dims[0], dims[1], dims[2]);
        var pixels = rows * columns;
        var images = new List<float[]>(count);
        for (var n = 0; n < count; n++)
        {
            var image = new float[pixels];
            for (var i = 0; i < pixels; i++)
            {
                var offset = (n * pixels) + i;
                image[i] = type switch
                {
                    UnsignedByte => data[offset] / 255f,
                    Float32 => Pixel(BinaryPrimitives.ReadSingleBigEndian(data.AsSpan(offset * 4)), path, n),
                    _ => throw Unsupported(path, type, "images"),
                };
            }
            images.Add(image);
        }
        return (images, rows, columns);
    }

    /// <summary>The labels of an IDX label file, as written (whole numbers).</summary>
    public static IReadOnlyList<int> ReadLabels(string path)
    {
        var (type, dims, data) = Read(path);
        if (dims.Length != 1)
        {
            throw new EvolverException($"{path}: an IDX label file has 1 dimension [count], this one {dims.Length}");
        }
        return type switch
        {
            UnsignedByte => [.. data.Select(b => (int)b)],
            Int32 => [.. Enumerable.Range(0, dims[0]).Select(i => BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(i * 4)))],
            _ => throw Unsupported(path, type, "labels"),
        };
    }

    /// <summary>
    /// Writes images as unsigned bytes when every pixel is a multiple of 1/255 (MNIST), else as float32, so that
    /// reading the file back gives the same pixels.
    /// </summary>
    public static void WriteImages(string path, IReadOnlyList<float[]> images, int rows, int columns)
    {
        var pixels = rows * columns;
        var bytes = images.All(image => image.Length == pixels && image.All(IsByte));
        using var output = Create(path);
        WriteHeader(output, bytes ? UnsignedByte : Float32, [images.Count, rows, columns]);
        Span<byte> value = stackalloc byte[4];
        foreach (var image in images)
        {
            foreach (var pixel in image)
            {
                if (bytes)
                {
                    output.WriteByte((byte)Math.Round(pixel * 255));
                }
                else
                {
                    BinaryPrimitives.WriteSingleBigEndian(value, pixel);
                    output.Write(value);
                }
            }
        }
    }

    /// <summary>Writes labels as unsigned bytes (all below 256) or int32.</summary>
    public static void WriteLabels(string path, IReadOnlyList<int> labels)
    {
        var bytes = labels.All(l => l is >= 0 and <= 255);
        using var output = Create(path);
        WriteHeader(output, bytes ? UnsignedByte : Int32, [labels.Count]);
        Span<byte> value = stackalloc byte[4];
        foreach (var label in labels)
        {
            if (bytes)
            {
                output.WriteByte((byte)label);
            }
            else
            {
                BinaryPrimitives.WriteInt32BigEndian(value, label);
                output.Write(value);
            }
        }
    }

    private static (byte Type, int[] Dims, byte[] Data) Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new EvolverException($"{path}: no such IDX file");
        }
        byte[] content;
        try
        {
            content = Decompressed(File.ReadAllBytes(path));
        }
        catch (InvalidDataException e)
        {
            throw new EvolverException($"{path}: a damaged gzip file ({e.Message.Split('\n')[0]})");
        }
        if (content.Length < 4 || content[0] != 0 || content[1] != 0)
        {
            throw new EvolverException($"{path}: not an IDX file (it does not start with two zero bytes, a type and a dimension count)");
        }
        var (type, rank) = (content[2], content[3]);
        var size = type switch
        {
            UnsignedByte or 0x09 => 1,
            0x0B => 2,
            Int32 or Float32 => 4,
            0x0E => 8,
            _ => throw new EvolverException($"{path}: not an IDX file (unknown type byte 0x{type:X2})"),
        };
        if (rank == 0 || content.Length < 4 + (4 * rank))
        {
            throw new EvolverException($"{path}: truncated IDX header ({rank} dimensions)");
        }
        var dims = Enumerable.Range(0, rank).Select(d => BinaryPrimitives.ReadInt32BigEndian(content.AsSpan(4 + (4 * d)))).ToArray();
        var count = dims.Aggregate(1L, (a, d) => d < 0 ? -1 : a * d);
        var start = 4 + (4 * rank);
        if (count < 0 || count * size != content.Length - start)
        {
            throw new EvolverException(
                $"{path}: the header says [{string.Join(", ", dims)}] x {size} bytes = {Math.Max(count, 0) * size} bytes of values, the file holds {content.Length - start}");
        }
        return (type, dims, content[start..]);
    }

    private static byte[] Decompressed(byte[] raw)
    {
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B)
        {
            return raw;
        }
        using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        return plain.ToArray();
    }

    private static Stream Create(string path)
    {
        var file = File.Create(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : file;
    }

    private static void WriteHeader(Stream output, byte type, int[] dims)
    {
        output.Write([0, 0, type, (byte)dims.Length]);
        Span<byte> value = stackalloc byte[4];
        foreach (var dim in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(value, dim);
            output.Write(value);
        }
    }

    private static bool IsByte(float pixel)
    {
        var scaled = pixel * 255.0;
        return pixel is >= 0 and <= 1 && Math.Abs(scaled - Math.Round(scaled)) < 1e-3;
    }

    private static float Pixel(float value, string path, int image) =>
        value is >= 0 and <= 1 ? value : throw new EvolverException($"{path}: image {image} has the pixel value {value}, outside [0, 1]");

    private static EvolverException Unsupported(string path, byte type, string what) =>
        new($"{path}: IDX type 0x{type:X2} is not supported for {what} (unsigned bytes{(what == "images" ? " or float32" : " or int32")})");
}
