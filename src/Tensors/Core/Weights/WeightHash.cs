using System.IO.Hashing;
using System.Text;
using EvolverActors.Tensors.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>
/// The content hash of a weight set: XxHash128 over every tensor's name, dtype, shape and bytes, in the set's
/// order. Fast (memory bandwidth), so a run can hash every child it evaluates and a rebuild can be checked against
/// it (docs/architecture.md §3). Not a cryptographic hash: it detects corruption and nondeterminism, not tampering.
/// </summary>
public static class WeightHash
{
    /// <summary>The hash as 32 lowercase hex digits.</summary>
    public static unsafe string Of(WeightSet weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var hash = new XxHash128();
        foreach (var (name, tensor) in weights.Entries())
        {
            hash.Append(Encoding.UTF8.GetBytes($"{name}\0{tensor.dtype}\0{string.Join(',', tensor.shape)}\0"));
            using var scope = NewDisposeScope();
            var cpu = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.cpu().contiguous();
            var bytes = cpu.numel() * cpu.element_size();
            var data = TensorMemory.BytePointer(cpu);
            for (long offset = 0; offset < bytes; offset += int.MaxValue)
            {
                hash.Append(new ReadOnlySpan<byte>(data + offset, (int)Math.Min(int.MaxValue, bytes - offset)));
            }
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }
}
