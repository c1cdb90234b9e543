using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>Maps between safetensors dtype codes and TorchSharp scalar types.</summary>
public static class DTypes
{
    /// <summary>Safetensors code → (torch type, bytes per element) for the dtypes we read.</summary>
    private static readonly Dictionary<string, (ScalarType Type, int Size)> ByCode = new(StringComparer.Ordinal)
    {
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["F64"] = (ScalarType.Float64, 8),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    public static bool TryParse(string code, out ScalarType type, out int size)
    {
        if (ByCode.TryGetValue(code, out var entry))
        {
            (type, size) = entry;
            return true;
        }
        (type, size) = (default, 0);
        return false;
    }

    public static string ToCode(ScalarType type) =>
        ByCode.FirstOrDefault(kv => kv.Value.Type == type).Key
        ?? throw new EvolverException($"dtype {type} cannot be written to safetensors");

    public static int SizeOf(ScalarType type) =>
        ByCode.Values.FirstOrDefault(v => v.Type == type).Size is var s and > 0
            ? s
            : throw new EvolverException($"dtype {type} is not supported");

    /// <summary>Float types whose weights evolve and merge (integers such as position ids are carried along).</summary>
    public static bool IsFloating(ScalarType type) =>
        type is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64;

    /// <summary>Parses a user-facing dtype name: f32, f16, bf16 (case-insensitive).</summary>
    public static ScalarType ParseUserName(string name) => name.ToLowerInvariant() switch
    {
        "f32" or "float32" or "float" => ScalarType.Float32,
        "f16" or "float16" or "half" => ScalarType.Float16,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        _ => throw new EvolverException($"unknown dtype '{name}': use f32, f16 or bf16"),
    };
}
