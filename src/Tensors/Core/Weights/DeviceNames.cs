using System.Globalization;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>
/// Device names as users write them (<c>--device</c>, <c>evolver.run.evaluators.devices</c>): <c>cpu</c>, <c>cuda</c>
/// (the current CUDA device) or <c>cuda:N</c>, case-insensitive. Everything else torch knows (<c>meta</c>, <c>mps</c>,
/// …) is refused: nothing here can evaluate or store weights on it.
/// </summary>
public static class DeviceNames
{
    /// <summary>What a user may write, for messages.</summary>
    public const string Allowed = "cpu, cuda or cuda:N";

    /// <summary>
    /// The device <paramref name="name"/> names, checked against this build and host. Problems are an
    /// <see cref="EvolverException"/> whose one line starts with <paramref name="what"/> (the flag or setting, e.g.
    /// <c>--device</c>) and the name: unknown device, CUDA in a CPU-only build or on a host without a GPU, or a CUDA
    /// index beyond the devices present.
    /// </summary>
    public static Device Parse(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        var lower = name.ToLowerInvariant();
        if (lower == "cpu")
        {
            return CPU;
        }
        int? index = lower switch
        {
            "cuda" => null,
            _ when lower.StartsWith("cuda:", StringComparison.Ordinal) => ParseIndex(lower["cuda:".Length..], name, what),
            _ => throw new EvolverException($"{what} {Shown(name)}: unknown device: use {Allowed}"),
        };
        RequireCuda(name, what);
        var count = cuda.device_count();
        if (index is { } n && n >= count)
        {
            throw new EvolverException(
                $"{what} {name}: no such CUDA device: this host has {count} ({(count == 1 ? "cuda:0" : $"cuda:0 to cuda:{count - 1}")})");
        }
        return device(index is { } i ? $"cuda:{i.ToString(CultureInfo.InvariantCulture)}" : "cuda");
    }

    private static int ParseIndex(string digits, string name, string what) =>
        digits.Length > 0 && digits.All(char.IsAsciiDigit) && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : throw new EvolverException($"{what} {Shown(name)}: unknown device: the CUDA index must be a number (use {Allowed})");

    private static void RequireCuda(string name, string what)
    {
        if (cuda.is_available())
        {
            return;
        }
#if TORCH_BACKEND_CUDA
        throw new EvolverException($"{what} {name}: CUDA is not available: no CUDA device is visible on this host");
#else
        throw new EvolverException($"{what} {name}: CUDA is not available in this build (build with -p:TorchBackend=cuda on a GPU host)");
#endif
    }

    /// <summary>The name as typed, quoted when it would not read as one word (empty, spaces).</summary>
    private static string Shown(string name) =>
        name.Length == 0 || name.Any(char.IsWhiteSpace) ? $"'{name}'" : name;
}
