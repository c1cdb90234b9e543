using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

/// <summary><see cref="Checkpoint.RequireFinite(string)"/>: every floating tensor of any checkpoint layout, one at a time.</summary>
public sealed class FiniteCheckTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static WeightSet Weights(float bad = 0) => WeightSet.Adopt(
    [
        ("encoder.weight", tensor(new[] { 1f, -2, 3, 4 }).reshape(2, 2)),
        ("encoder.bias", tensor(new[] { 0.5f, bad })),
        ("position_ids", arange(4, ScalarType.Int64)),
    ]);

    [Fact]
    public void A_finite_checkpoint_passes_in_every_layout()
    {
        using var weights = Weights();
        var file = _dir.File("model.safetensors");
        SafetensorsWriter.Write(file, weights.Entries());
        Checkpoint.Save(_dir.File("dir"), weights);
        Checkpoint.Save(_dir.File("sharded"), weights, maxShardBytes: 16);

        Checkpoint.RequireFinite(file);
        Checkpoint.RequireFinite(_dir.File("dir"));
        Checkpoint.RequireFinite(_dir.File("sharded"));
        Checkpoint.RequireFinite(Path.Combine(_dir.File("sharded"), Checkpoint.IndexFileName));
        Checkpoint.RequireFinite(weights, "in memory");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_non_finite_value_is_named_with_the_path_and_tensor_in_every_layout(float bad)
    {
        using var weights = Weights(bad);
        var file = _dir.File("model.safetensors");
        SafetensorsWriter.Write(file, weights.Entries());
        var directory = _dir.File("dir");
        Checkpoint.Save(directory, weights);
        var sharded = _dir.File("sharded");
        Assert.True(Checkpoint.Save(sharded, weights, maxShardBytes: 16).Count > 2);

        foreach (var path in new[] { file, directory, sharded })
        {
            var error = Assert.Throws<EvolverException>(() => Checkpoint.RequireFinite(path));
            Assert.Equal($"{path}: tensor 'encoder.bias' has NaN or infinite values", error.Message);
        }
        var inMemory = Assert.Throws<EvolverException>(() => Checkpoint.RequireFinite(weights, "given"));
        Assert.Equal("given: tensor 'encoder.bias' has NaN or infinite values", inMemory.Message);
    }

    [Theory]
    [InlineData("F16", (ushort)0x7E00)] // NaN
    [InlineData("F16", (ushort)0xFC00)] // −∞
    [InlineData("BF16", (ushort)0x7FC0)] // NaN
    [InlineData("BF16", (ushort)0x7F80)] // +∞
    public void Half_precision_nan_and_infinity_are_found(string dtype, ushort bits)
    {
        // Written from the format spec: a finite f32 tensor first, then the half-precision one with one bad element.
        var header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + $"\"h\":{{\"dtype\":\"{dtype}\",\"shape\":[3],\"data_offsets\":[8,14]}}}}";
        var one = dtype == "F16" ? (ushort)0x3C00 : (ushort)0x3F80;
        var path = _dir.Write("half.safetensors", SafetensorsBytes.File(header, [.. SafetensorsBytes.F32(1, 2), .. SafetensorsBytes.Bits16(one, bits, one)]));

        var error = Assert.Throws<EvolverException>(() => Checkpoint.RequireFinite(path));

        Assert.Equal($"{path}: tensor 'h' has NaN or infinite values", error.Message);
    }

    [Fact]
    public void Integer_tensors_are_not_checked_and_nothing_stays_allocated()
    {
        var path = _dir.Write("ints.safetensors", SafetensorsBytes.File(
            "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", SafetensorsBytes.I64(long.MaxValue, -1)));
        using var weights = Weights(float.NaN);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = Tensor.TotalCount;

        Checkpoint.RequireFinite(path);
        Assert.Throws<EvolverException>(() => Checkpoint.RequireFinite(weights, "w"));
        Assert.Throws<EvolverException>(() => Checkpoint.RequireFinite(_dir.Write("bad.safetensors", SafetensorsBytes.File(
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", SafetensorsBytes.F32(float.NaN)))));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(before, Tensor.TotalCount);
    }

    [Fact]
    public void A_missing_checkpoint_is_a_one_line_error()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Checkpoint.RequireFinite(_dir.File("nothing")));
        Assert.Contains("no such file or directory", error.Message, StringComparison.Ordinal);
    }
}
