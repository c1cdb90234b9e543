using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Native;

/// <summary>
/// Raw access to CPU tensor memory for the fused kernels. TorchSharp exposes <c>Tensor.bytes</c>
/// only as a Span limited to 2 GB, so we ask LibTorchSharp for the data pointer directly.
/// </summary>
internal static unsafe partial class TensorMemory
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    /// <summary>Pointer to the first float of a contiguous CPU float32 tensor.</summary>
    public static float* FloatPointer(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU || tensor.dtype != ScalarType.Float32 || !tensor.is_contiguous())
        {
            throw new ArgumentException("fused kernels need contiguous float32 CPU tensors", nameof(tensor));
        }
        var ptr = THSTensor_data(tensor.Handle);
        if (ptr == IntPtr.Zero && tensor.numel() > 0)
        {
            throw new InvalidOperationException("LibTorchSharp returned no data pointer for a CPU tensor");
        }
        return (float*)ptr;
    }

    /// <summary>Pointer to the first byte of a contiguous CPU tensor of any dtype.</summary>
    public static byte* BytePointer(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
        {
            throw new ArgumentException("raw access needs a contiguous CPU tensor", nameof(tensor));
        }
        var ptr = THSTensor_data(tensor.Handle);
        if (ptr == IntPtr.Zero && tensor.numel() > 0)
        {
            throw new InvalidOperationException("LibTorchSharp returned no data pointer for a CPU tensor");
        }
        return (byte*)ptr;
    }
}
