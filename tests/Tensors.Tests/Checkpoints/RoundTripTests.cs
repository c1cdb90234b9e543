using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

public sealed class RoundTripTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// A file in the Hugging Face layout, built by hand: __metadata__ first, tensors by dtype
    /// (I64, F32, I32, BF16, F16: the Rust crate's Dtype order, descending) then by name, data in
    /// that order, header padded with spaces to a multiple of 8 (here 396 → 400 bytes: 4 spaces).
    /// </summary>
    private static byte[] HuggingFaceFile()
    {
        var header = """
            {"__metadata__":{"format":"pt","z":"e"},
            "pos":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},
            "a.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},
            "b.bias":{"dtype":"F32","shape":[1],"data_offsets":[32,36]},
            "count":{"dtype":"I32","shape":[1],"data_offsets":[36,40]},
            "emb":{"dtype":"BF16","shape":[3],"data_offsets":[40,46]},
            "head":{"dtype":"F16","shape":[1,1],"data_offsets":[46,48]}}
            """.ReplaceLineEndings("");
        byte[] data =
        [
            .. SafetensorsBytes.I64(0, 1),
            .. SafetensorsBytes.F32(0.5f, -1f, 2f, 8f),
            .. SafetensorsBytes.F32(0.25f),
            .. SafetensorsBytes.I32(42),
            .. SafetensorsBytes.Bits16(0x3F80, 0x4040, 0xBF00),
            .. SafetensorsBytes.Bits16(0x3C00),
        ];
        var bytes = SafetensorsBytes.File(header, data);
        Assert.Equal(0, (bytes.Length - data.Length) % 8);
        Assert.Equal((byte)' ', bytes[^(data.Length + 1)]);
        return bytes;
    }

    [Fact]
    public void A_hugging_face_file_is_rewritten_byte_for_byte()
    {
        var original = HuggingFaceFile();
        var source = _dir.Write("hf.safetensors", original);
        var copy = _dir.File("copy.safetensors");

        using (var file = SafetensorsFile.Open(source))
        using (var scope = NewDisposeScope())
        {
            // Shuffled input order: the writer restores the HF order itself.
            var tensors = file.Specs.Select(s => (s.Name, file.ReadTensor(s.Name))).Reverse().ToList();
            SafetensorsWriter.Write(copy, tensors, file.Metadata);
        }

        Assert.Equal(original, File.ReadAllBytes(copy));
        Assert.Single(Directory.GetFiles(_dir.Path, "*copy*")); // no temp file left behind
    }

    [Fact]
    public void Our_files_read_back_as_the_same_tensors()
    {
        using var scope = NewDisposeScope();
        var transposed = arange(6, ScalarType.Float32).reshape(2, 3).t(); // not contiguous
        (string, Tensor)[] tensors =
        [
            ("w", randn(3, 4)),
            ("t", transposed),
            ("h", randn(5).to(ScalarType.Float16)),
            ("b", randn(2, 2).to(ScalarType.BFloat16)),
            ("ids", arange(4, ScalarType.Int64)),
            ("n", tensor(new[] { 3, -1 })),
            ("s", tensor(1.5f)),
            ("e", zeros(0, 2)),
        ];
        var path = _dir.File("ours.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["quote\"and\\slash"] = "ünïcode\n" };

        SafetensorsWriter.Write(path, tensors, metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(tensors.Length, file.Specs.Count);
        foreach (var (name, expected) in tensors)
        {
            var actual = file.ReadTensor(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.eq(actual).all().item<bool>(), $"tensor {name} differs");
        }
        var bytes = File.ReadAllBytes(path);
        var headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, (8 + headerLength) % 8);
    }

    [Fact]
    public void Writing_replaces_an_existing_file_whole()
    {
        var path = _dir.File("over.safetensors");
        File.WriteAllText(path, "old contents");
        using var scope = NewDisposeScope();

        SafetensorsWriter.Write(path, [("x", ones(2))]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["x"], file.Specs.Select(s => s.Name));
        Assert.Single(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void Writing_a_name_twice_is_refused() =>
        Assert.Throws<Tensors.EvolverException>(() =>
            SafetensorsWriter.Write(_dir.File("dup.safetensors"), [("x", ones(1)), ("x", ones(1))]));

    [Fact]
    public void A_tensor_named_like_the_metadata_key_is_refused() =>
        Assert.Throws<Tensors.EvolverException>(() =>
            SafetensorsWriter.Write(_dir.File("meta.safetensors"), [("__metadata__", ones(1))]));

    [Fact]
    public void A_weight_set_saves_and_loads_without_leaking_tensors()
    {
        var before = WeightSet.LiveTensors;
        using (var scope = NewDisposeScope())
        using (var weights = WeightSet.Adopt([("w", randn(4, 4)), ("b", zeros(4)), ("ids", arange(3, ScalarType.Int64))]))
        {
            var written = Checkpoint.Save(_dir.Path, weights, new Dictionary<string, string> { ["format"] = "pt" });
            Assert.Equal([Path.Combine(_dir.Path, Checkpoint.SingleFileName)], written);

            using var loaded = Checkpoint.Load(_dir.Path);
            Assert.Null(WeightLayout.FirstMismatch(weights.Layout, "saved", loaded.Layout, "loaded"));
            foreach (var (name, tensor) in weights.Entries())
            {
                Assert.True(tensor.eq(loaded[name]).all().item<bool>());
            }
        }
        Assert.Equal(before, WeightSet.LiveTensors);
    }
}
