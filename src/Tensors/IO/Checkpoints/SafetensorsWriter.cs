using System.Globalization;
using System.Text;
using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// Writes .safetensors files laid out as the Hugging Face <c>safetensors</c> library lays them out,
/// so that a file it wrote is reproduced byte for byte:
/// <list type="bullet">
/// <item>tensors sorted by dtype, widest alignment first (the Rust crate's <c>Dtype</c> order, descending),
/// then by name; data packed in that order with no gaps;</item>
/// <item>compact JSON header: <c>__metadata__</c> first (keys sorted, omitted when empty), then the
/// tensors in data order, each <c>{"dtype","shape","data_offsets"}</c>;</item>
/// <item>the header padded with spaces so that 8 + header length is a multiple of 8.</item>
/// </list>
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Position of each dtype in the Rust crate's <c>Dtype</c> enum (its derived order).</summary>
    private static readonly Dictionary<ScalarType, int> RustOrder = new()
    {
        [ScalarType.Bool] = 0,
        [ScalarType.Byte] = 1,
        [ScalarType.Int8] = 2,
        [ScalarType.Int16] = 3,
        [ScalarType.Float16] = 4,
        [ScalarType.BFloat16] = 5,
        [ScalarType.Int32] = 6,
        [ScalarType.Float32] = 7,
        [ScalarType.Float64] = 8,
        [ScalarType.Int64] = 9,
    };

    /// <summary>
    /// Writes the tensors (any device; copied to CPU one at a time) to <paramref name="path"/>
    /// through a temp file that is fsynced and renamed, so the final name never holds half a file.
    /// <paramref name="durable"/> = false skips the fsync (scratch files that are deleted after use).
    /// </summary>
    public static unsafe void Write(
        string path,
        IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null,
        bool durable = true)
    {
        RawFile.RequireLittleEndian();
        var ordered = InFileOrder(tensors);
        var header = BuildHeader(ordered.Select(t => new TensorSpec(t.Name, t.Tensor.shape, t.Tensor.dtype)).ToList(), metadata);
        RawFile.WriteAtomically(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BitConverter.TryWriteBytes(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var (_, tensor) in ordered)
            {
                var bytes = tensor.numel() * DTypes.SizeOf(tensor.dtype);
                if (bytes == 0)
                {
                    continue;
                }
                using var scope = NewDisposeScope();
                var cpu = tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();
                cpu = cpu.is_contiguous() ? cpu : cpu.contiguous();
                RawFile.Write(stream, TensorMemory.BytePointer(cpu), bytes);
            }
        }, durable);
    }

    /// <summary>Bytes a tensor of this spec takes in the data section.</summary>
    public static long DataBytes(TensorSpec spec) => spec.Elements * DTypes.SizeOf(spec.DType);

    /// <summary>The Hugging Face data order: dtype alignment descending, then name.</summary>
    internal static List<(string Name, Tensor Tensor)> InFileOrder(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var list = tensors.ToList();
        var order = InFileOrder([.. list.Select(t => new TensorSpec(t.Name, t.Tensor.shape, t.Tensor.dtype))]);
        var byName = list.ToDictionary(t => t.Name, StringComparer.Ordinal);
        return [.. order.Select(spec => byName[spec.Name])];
    }

    /// <summary>
    /// Specs in the Hugging Face data order (dtype alignment descending, then name); refuses the reserved
    /// <c>__metadata__</c> name, a name given twice and a dtype safetensors cannot store.
    /// </summary>
    internal static List<TensorSpec> InFileOrder(IReadOnlyList<TensorSpec> specs)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (spec.Name == SafetensorsHeader.MetadataKey)
            {
                throw new EvolverException($"a tensor cannot be named '{spec.Name}': the header reserves that key");
            }
            if (!names.Add(spec.Name))
            {
                throw new EvolverException($"cannot write tensor '{spec.Name}' twice to one safetensors file");
            }
            if (!RustOrder.ContainsKey(spec.DType))
            {
                throw new EvolverException($"tensor '{spec.Name}' has dtype {spec.DType}, which safetensors cannot store here");
            }
        }
        return [.. specs.OrderByDescending(s => RustOrder[s.DType]).ThenBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>The padded JSON header for tensors already in file order.</summary>
    internal static byte[] BuildHeader(IReadOnlyList<TensorSpec> specs, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new StringBuilder("{");
        if (metadata is { Count: > 0 })
        {
            json.Append(Quote(SafetensorsHeader.MetadataKey)).Append(":{");
            var first = true;
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                json.Append(first ? "" : ",").Append(Quote(key)).Append(':').Append(Quote(value));
                first = false;
            }
            json.Append('}');
        }
        long offset = 0;
        foreach (var spec in specs)
        {
            var end = offset + DataBytes(spec);
            json.Append(json.Length > 1 ? "," : "")
                .Append(Quote(spec.Name))
                .Append(":{\"dtype\":").Append(Quote(DTypes.ToCode(spec.DType)))
                .Append(",\"shape\":[").AppendJoin(',', spec.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))
                .Append("],\"data_offsets\":[").Append(offset).Append(',').Append(end).Append("]}");
            offset = end;
        }
        json.Append('}');
        var bytes = Encoding.UTF8.GetBytes(json.ToString());
        var padded = (bytes.Length + 7) / 8 * 8;
        var result = new byte[padded];
        bytes.CopyTo(result, 0);
        result.AsSpan(bytes.Length).Fill((byte)' ');
        return result;
    }

    /// <summary>A JSON string escaped as serde_json escapes it (non-ASCII stays raw UTF-8).</summary>
    private static string Quote(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                '\b' => sb.Append("\\b"),
                '\f' => sb.Append("\\f"),
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                < ' ' => sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => sb.Append(c),
            };
        }
        return sb.Append('"').ToString();
    }
}
