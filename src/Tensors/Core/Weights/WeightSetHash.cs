using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EvolverActors.Tensors.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Weights;

/// <summary>
/// A content hash of a weight set: SHA-256 over, for each tensor in ordinal name order, its name, its dtype's
/// safetensors code, its shape and its bytes (little-endian, row-major). Equal hashes mean bit-identical weights;
/// the order the set was built in does not matter.
/// </summary>
public static class WeightSetHash
{
    /// <summary>The hash as 64 lowercase hex digits.</summary>
    public static unsafe string Sha256(WeightSet weights)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[8];
        void Append(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            hash.AppendData(number);
        }
        void AppendText(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            Append(bytes.Length);
            hash.AppendData(bytes);
        }

        foreach (var name in weights.Names.Order(StringComparer.Ordinal))
        {
            var tensor = weights[name];
            AppendText(name);
            AppendText(DTypes.ToCode(tensor.dtype));
            Append(tensor.shape.Length);
            foreach (var dim in tensor.shape)
            {
                Append(dim);
            }
            using var scope = NewDisposeScope();
            var cpu = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.contiguous().cpu();
            var length = cpu.numel() * DTypes.SizeOf(cpu.dtype);
            Append(length);
            var data = TensorMemory.BytePointer(cpu);
            for (long done = 0; done < length;)
            {
                var piece = (int)Math.Min(length - done, 1 << 30);
                hash.AppendData(new ReadOnlySpan<byte>(data + done, piece));
                done += piece;
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
