using System.Buffers.Binary;
using System.Text.Json;
using EvolverActors.Tensors.Weights;
using Microsoft.Win32.SafeHandles;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>One tensor of a safetensors header; offsets are relative to the start of the data section.</summary>
internal sealed record HeaderEntry(TensorSpec Spec, long Begin, long End)
{
    public long Length => End - Begin;
}

/// <summary>
/// The parsed and validated header of a safetensors file
/// (https://huggingface.co/docs/safetensors: u64 LE header length, JSON header, raw data).
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The Rust safetensors crate refuses larger headers; so do we, before allocating them.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private SafetensorsHeader(long dataStart, IReadOnlyList<HeaderEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        DataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>Absolute file offset of the data section (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Entries in data order (by begin offset, then header order).</summary>
    public IReadOnlyList<HeaderEntry> Entries { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsHeader Read(SafeFileHandle handle, string path)
    {
        var fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
        {
            throw new CheckpointFormatException(path, $"file is truncated: {fileLength} bytes, shorter than the 8-byte header length");
        }
        Span<byte> prefix = stackalloc byte[8];
        RawFile.ReadExactly(handle, path, prefix, 0);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new CheckpointFormatException(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes)");
        }
        if (headerLength > MaxHeaderBytes)
        {
            throw new CheckpointFormatException(path, $"header length {headerLength} is over the {MaxHeaderBytes}-byte limit");
        }
        var json = new byte[headerLength];
        RawFile.ReadExactly(handle, path, json, 8);

        var (entries, metadata) = Parse(json, path);
        var dataStart = 8 + (long)headerLength;
        var ordered = Validate(entries, fileLength - dataStart, path);
        return new SafetensorsHeader(dataStart, ordered, metadata);
    }

    private static (List<HeaderEntry>, Dictionary<string, string>) Parse(byte[] json, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"header is not valid JSON ({OneLine(e.Message)})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(path, $"header is not a JSON object but {doc.RootElement.ValueKind}");
            }
            var entries = new List<HeaderEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            // JsonDocument keeps duplicate keys; a second entry must not silently shadow the first.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new CheckpointFormatException(path, $"duplicate tensor name '{property.Name}' in the header");
                }
                if (property.Name == MetadataKey)
                {
                    ParseMetadata(property.Value, metadata, path);
                }
                else
                {
                    entries.Add(ParseEntry(property.Name, property.Value, path));
                }
            }
            return (entries, metadata);
        }
    }

    private static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(path, $"{MetadataKey} is not a JSON object");
        }
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointFormatException(path, $"{MetadataKey} value of '{item.Name}' is not a string");
            }
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new CheckpointFormatException(path, $"duplicate {MetadataKey} key '{item.Name}'");
            }
        }
    }

    private static HeaderEntry ParseEntry(string name, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(path, $"header entry of tensor '{name}' is not a JSON object");
        }
        string? code = null;
        long[]? shape = null;
        long[]? offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            var duplicate = field.Name switch
            {
                "dtype" => code is not null,
                "shape" => shape is not null,
                "data_offsets" => offsets is not null,
                _ => false, // unknown fields are ignored, as the reference implementation does
            };
            if (duplicate)
            {
                throw new CheckpointFormatException(path, $"tensor '{name}' has a duplicate '{field.Name}' field");
            }
            switch (field.Name)
            {
                case "dtype":
                    code = field.Value.ValueKind == JsonValueKind.String
                        ? field.Value.GetString()!
                        : throw new CheckpointFormatException(path, $"dtype of tensor '{name}' is not a string");
                    break;
                case "shape":
                    shape = Integers(field.Value, name, "shape", path);
                    break;
                case "data_offsets":
                    offsets = Integers(field.Value, name, "data_offsets", path);
                    break;
                default:
                    break;
            }
        }
        if (code is null || shape is null || offsets is null)
        {
            var missing = code is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw new CheckpointFormatException(path, $"tensor '{name}' is missing '{missing}' in the header");
        }
        if (!DTypes.TryParse(code, out var dtype, out _))
        {
            throw new CheckpointFormatException(path, $"tensor '{name}' has unknown dtype '{code}'");
        }
        if (shape.FirstOrDefault(d => d < 0, 0) is var negative and < 0)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}' has a negative dimension {negative} in its shape");
        }
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
        {
            throw new CheckpointFormatException(path, $"tensor '{name}' has data_offsets [{string.Join(", ", offsets)}] out of range: need [begin, end] with 0 <= begin <= end");
        }
        return new HeaderEntry(new TensorSpec(name, shape, dtype), offsets[0], offsets[1]);
    }

    private static long[] Integers(JsonElement value, string name, string field, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointFormatException(path, $"{field} of tensor '{name}' is not a list of integers");
        }
        var result = new long[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out result[i++]))
            {
                throw new CheckpointFormatException(path, $"{field} of tensor '{name}' holds {item.GetRawText()}, not a 64-bit integer");
            }
        }
        return result;
    }

    /// <summary>Checks sizes, ranges and overlaps; returns the entries in data order.</summary>
    private static List<HeaderEntry> Validate(List<HeaderEntry> entries, long dataLength, string path)
    {
        foreach (var entry in entries)
        {
            var spec = entry.Spec;
            long expected;
            try
            {
                expected = checked(spec.Shape.Aggregate(1L, (a, b) => checked(a * b)) * DTypes.SizeOf(spec.DType));
            }
            catch (OverflowException)
            {
                throw new CheckpointFormatException(path, $"tensor '{spec.Name}' has shape {spec.ShapeText}, too large to address");
            }
            if (entry.Length != expected)
            {
                throw new CheckpointFormatException(path,
                    $"tensor '{spec.Name}' size mismatch: data_offsets span {entry.Length} bytes but shape {spec.ShapeText} of {DTypes.ToCode(spec.DType)} needs {expected}");
            }
        }
        // OrderBy is stable: tensors at the same offset (only empty ones can share one) keep header order.
        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        HeaderEntry? previous = null;
        foreach (var entry in ordered.Where(e => e.Length > 0))
        {
            if (previous is not null && entry.Begin < previous.End)
            {
                throw new CheckpointFormatException(path,
                    $"tensors '{previous.Spec.Name}' [{previous.Begin}, {previous.End}) and '{entry.Spec.Name}' [{entry.Begin}, {entry.End}) overlap in the data section");
            }
            previous = entry;
        }
        var last = ordered.MaxBy(e => e.End);
        if (last is not null && last.End > dataLength)
        {
            throw new CheckpointFormatException(path,
                $"file is truncated: tensor '{last.Spec.Name}' ends at data byte {last.End} but the data section has only {dataLength} bytes");
        }
        return ordered;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
