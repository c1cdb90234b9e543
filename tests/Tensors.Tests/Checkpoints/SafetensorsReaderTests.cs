using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

public sealed class SafetensorsReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_values_shapes_dtypes_and_metadata_of_a_file_built_by_hand()
    {
        const string header = """
            {"__metadata__":{"format":"pt","note":"hand made"},
             "a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},
             "b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},
             "c":{"dtype":"BF16","shape":[3],"data_offsets":[22,28]},
             "d":{"dtype":"I64","shape":[2],"data_offsets":[28,44]},
             "e":{"dtype":"I32","shape":[1,2],"data_offsets":[44,52]}}
            """;
        byte[] data =
        [
            .. SafetensorsBytes.F32(1f, 2f, 3f, -4.5f),
            .. SafetensorsBytes.Bits16(0x3C00, 0x4000, 0xB800), // F16 1, 2, -0.5
            .. SafetensorsBytes.Bits16(0x3F80, 0x4040, 0xBF00), // BF16 1, 3, -0.5
            .. SafetensorsBytes.I64(-7, 1L << 40),
            .. SafetensorsBytes.I32(5, -6),
        ];
        var path = _dir.Write("hand.safetensors", SafetensorsBytes.File(header, data));

        using var file = SafetensorsFile.Open(path);
        using var scope = NewDisposeScope();

        Assert.Equal(["a", "b", "c", "d", "e"], file.Specs.Select(s => s.Name));
        Assert.Equal([ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64, ScalarType.Int32],
            file.Specs.Select(s => s.DType));
        Assert.Equal([2L, 2], file.GetSpec("a").Shape);
        Assert.Equal([1L, 2], file.GetSpec("e").Shape);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("hand made", file.Metadata["note"]);
        Assert.Equal(52, file.DataBytes);

        var a = file.ReadTensor("a");
        Assert.Equal([2L, 2], a.shape);
        Assert.Equal([1f, 2f, 3f, -4.5f], a.data<float>().ToArray());
        Assert.Equal([1f, 2f, -0.5f], file.ReadTensor("b").to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal([1f, 3f, -0.5f], file.ReadTensor("c").to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal([-7L, 1L << 40], file.ReadTensor("d").data<long>().ToArray());
        Assert.Equal([5, -6], file.ReadTensor("e").data<int>().ToArray());
    }

    [Fact]
    public void Specs_follow_the_data_order_not_the_header_order()
    {
        const string header = """
            {"late":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"early":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}
            """;
        var path = _dir.Write("order.safetensors", SafetensorsBytes.File(header, SafetensorsBytes.F32(10f, 20f)));

        using var file = SafetensorsFile.Open(path);
        using var scope = NewDisposeScope();

        Assert.Equal(["early", "late"], file.Specs.Select(s => s.Name));
        Assert.Equal(20f, file.ReadTensor("late").item<float>());
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Reads_scalars_and_empty_tensors()
    {
        const string header = """
            {"scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"empty":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]}}
            """;
        var path = _dir.Write("edge.safetensors", SafetensorsBytes.File(header, SafetensorsBytes.F32(7f)));

        using var file = SafetensorsFile.Open(path);
        using var scope = NewDisposeScope();

        var scalar = file.ReadTensor("scalar");
        Assert.Empty(scalar.shape);
        Assert.Equal(7f, scalar.item<float>());
        Assert.Equal([0L, 3], file.ReadTensor("empty").shape);
    }

    [Fact]
    public void Reads_the_other_safetensors_dtypes()
    {
        const string header = """
            {"f64":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"i16":{"dtype":"I16","shape":[1],"data_offsets":[8,10]},
             "i8":{"dtype":"I8","shape":[1],"data_offsets":[10,11]},"u8":{"dtype":"U8","shape":[1],"data_offsets":[11,12]},
             "bool":{"dtype":"BOOL","shape":[2],"data_offsets":[12,14]}}
            """;
        byte[] data = [.. BitConverter.GetBytes(2.5), .. SafetensorsBytes.Bits16(0xFFFE), 0xFF, 200, 1, 0];
        var path = _dir.Write("other.safetensors", SafetensorsBytes.File(header, data));

        using var file = SafetensorsFile.Open(path);
        using var scope = NewDisposeScope();

        Assert.Equal(2.5, file.ReadTensor("f64").item<double>());
        Assert.Equal((short)-2, file.ReadTensor("i16").item<short>());
        Assert.Equal((sbyte)-1, file.ReadTensor("i8").item<sbyte>());
        Assert.Equal((byte)200, file.ReadTensor("u8").item<byte>());
        Assert.Equal([true, false], file.ReadTensor("bool").data<bool>().ToArray());
    }

    [Fact]
    public void A_checkpoint_directory_reads_its_layout_without_loading_data()
    {
        var path = Path.Combine(_dir.Path, Checkpoint.SingleFileName);
        File.WriteAllBytes(path, SafetensorsBytes.File(
            """{"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}""", new byte[12]));

        var layout = Checkpoint.ReadLayout(_dir.Path);

        var spec = Assert.Single(layout.Specs);
        Assert.Equal(new TensorSpec("w", [2, 3], ScalarType.BFloat16).ShapeText, spec.ShapeText);
        Assert.Equal(ScalarType.BFloat16, spec.DType);
        Assert.Equal(6, layout.ParameterCount);
    }

    [Fact]
    public void Loading_converts_floats_moves_tensors_and_filters_by_name()
    {
        const string header = """
            {"layer.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"ids":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},
             "head.weight":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}}
            """;
        byte[] data = [.. SafetensorsBytes.F32(1.5f, -2f), .. SafetensorsBytes.I64(3), .. SafetensorsBytes.F32(9f)];
        var path = _dir.Write("load.safetensors", SafetensorsBytes.File(header, data));
        var before = WeightSet.LiveTensors;

        using (var weights = Checkpoint.Load(path, CPU, ScalarType.BFloat16, new System.Text.RegularExpressions.Regex("^(layer|ids)")))
        {
            Assert.Equal(["layer.weight", "ids"], weights.Names);
            Assert.Equal(ScalarType.BFloat16, weights["layer.weight"].dtype);
            Assert.Equal(ScalarType.Int64, weights["ids"].dtype);
            Assert.Equal(DeviceType.CPU, weights["layer.weight"].device_type);
            using var scope = NewDisposeScope();
            Assert.Equal([1.5f, -2f], weights["layer.weight"].to(ScalarType.Float32).data<float>().ToArray());
        }

        Assert.Equal(before, WeightSet.LiveTensors);
    }
}
