using System.IO.Hashing;
using System.Text;
using EvolverActors.Tensors.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>
/// The content hash of a weight set: every tensor's bytes are hashed with XxHash128 (in pieces of at most 1 GiB), and
/// the names, dtypes, shapes and those digests, in the set's order, are hashed again. Fast (memory bandwidth), so a
/// run can hash every child it evaluates and a rebuild can be checked against it (docs/architecture.md §3). Not a
/// cryptographic hash: it detects corruption and nondeterminism, not tampering.
/// </summary>
public static class WeightHash
{
    private const int Piece = 1 << 30;

    /// <summary>The hash as 32 lowercase hex digits.</summary>
    public static string Of(WeightSet weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        // Tensors are hashed independently and only their digests are combined, in order, so they are hashed in
        // parallel: one core's XxHash128 does not saturate memory bandwidth. The bits do not depend on the schedule.
        // A memory-mapped tensor's pages go back once it is hashed: a few tensors resident at a time, not the set.
        var tensors = weights.Entries().ToArray();
        var digests = new byte[tensors.Length][];
        Parallel.For(0, tensors.Length, t =>
        {
            weights.PrefetchPages(t);
            digests[t] = Digests(tensors[t].Tensor);
            weights.ReleasePages(t);
        });
        var summary = new List<byte>();
        for (var t = 0; t < tensors.Length; t++)
        {
            var (name, tensor) = tensors[t];
            summary.AddRange(Encoding.UTF8.GetBytes($"{name}\0{tensor.dtype}\0{string.Join(',', tensor.shape)}\0"));
            summary.AddRange(digests[t]);
        }
        return Convert.ToHexStringLower(XxHash128.Hash([.. summary]));
    }

    /// <summary>The XxHash128 digests of a tensor's bytes, one per piece, concatenated.</summary>
    private static unsafe byte[] Digests(Tensor tensor)
    {
        // The one-shot XxHash128.Hash is used for the bulk bytes: it is vectorized from the first call, where the
        // streaming Append path runs slowly until the JIT has recompiled it.
        using var scope = NewDisposeScope();
        var cpu = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.cpu().contiguous();
        var bytes = cpu.numel() * cpu.element_size();
        var data = TensorMemory.BytePointer(cpu);
        var digests = new List<byte>();
        for (long offset = 0; offset < bytes; offset += Piece)
        {
            digests.AddRange(XxHash128.Hash(new ReadOnlySpan<byte>(data + offset, (int)Math.Min(Piece, bytes - offset))));
        }
        return [.. digests];
    }
}
