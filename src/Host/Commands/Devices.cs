using EvolverActors.Tensors;
using static TorchSharp.torch;

namespace EvolverActors.Host.Commands;

/// <summary>Parses --device: cpu, cuda or cuda:N (refused with a clear message where CUDA is not available).</summary>
internal static class Devices
{
    public static Device Parse(string name)
    {
        if (name.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !cuda.is_available())
        {
            throw new EvolverException($"--device {name}: CUDA is not available here (build with -p:TorchBackend=cuda on a GPU host)");
        }
        try
        {
            return device(name.ToLowerInvariant());
        }
        catch (ArgumentException)
        {
            throw new EvolverException($"--device '{name}' is not a device: use cpu, cuda or cuda:N");
        }
    }
}
