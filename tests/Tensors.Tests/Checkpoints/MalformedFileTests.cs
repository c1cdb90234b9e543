using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Checkpoints;

/// <summary>Every malformed file is refused with a one-line message naming the file and the problem.</summary>
public sealed class MalformedFileTests : IDisposable
{
    private const string Entry = """{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_file_shorter_than_the_length_prefix_is_truncated() =>
        Refused([1, 0, 0], "truncated");

    [Fact]
    public void Data_shorter_than_the_last_offset_is_truncated() =>
        Refused(SafetensorsBytes.OneTensor(Entry, dataBytes: 5), "truncated");

    [Fact]
    public void A_header_length_past_the_end_is_refused() =>
        Refused([.. SafetensorsBytes.U64(1000), .. "{}"u8], "past the end");

    [Fact]
    public void A_huge_header_length_is_refused_before_allocating() =>
        Refused([.. SafetensorsBytes.U64(ulong.MaxValue), .. "{}"u8], "past the end");

    [Fact]
    public void A_header_that_is_not_json_is_refused() =>
        Refused(SafetensorsBytes.File("{\"t\": {nope", []), "not valid JSON");

    [Fact]
    public void A_header_that_is_not_utf8_is_refused() =>
        Refused([.. SafetensorsBytes.U64(4), 0xFF, 0xFE, 0x7B, 0x7D], "not valid JSON");

    [Fact]
    public void A_header_that_is_not_an_object_is_refused() =>
        Refused(SafetensorsBytes.File("[1,2]", []), "not a JSON object");

    [Fact]
    public void An_entry_that_is_not_an_object_is_refused() =>
        Refused(SafetensorsBytes.File("{\"t\":42}", []), "not a JSON object");

    [Fact]
    public void An_entry_without_dtype_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"shape":[2],"data_offsets":[0,8]}""", 8), "missing 'dtype'");

    [Fact]
    public void An_entry_without_shape_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","data_offsets":[0,8]}""", 8), "missing 'shape'");

    [Fact]
    public void An_entry_without_data_offsets_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","shape":[2]}""", 8), "missing 'data_offsets'");

    [Fact]
    public void Offsets_with_begin_after_end_are_out_of_range() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","shape":[2],"data_offsets":[8,0]}""", 8), "out of range");

    [Fact]
    public void Negative_offsets_are_out_of_range() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}""", 8), "out of range");

    [Fact]
    public void Offsets_that_are_not_a_pair_are_out_of_range() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}""", 8), "out of range");

    [Fact]
    public void Overlapping_tensors_are_refused() =>
        Refused(SafetensorsBytes.File(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""",
            new byte[12]), "overlap");

    [Fact]
    public void A_size_that_does_not_match_the_shape_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F16","shape":[2],"data_offsets":[0,8]}""", 8), "size mismatch");

    [Fact]
    public void A_shape_too_large_to_address_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}""", 8), "too large");

    [Fact]
    public void An_unknown_dtype_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}""", 8), "unknown dtype");

    [Fact]
    public void Duplicate_tensor_names_are_refused() =>
        Refused(SafetensorsBytes.File(
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""",
            new byte[8]), "duplicate");

    [Fact]
    public void A_negative_dimension_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","shape":[-2,-1],"data_offsets":[0,8]}""", 8), "negative");

    [Fact]
    public void A_fractional_dimension_is_refused() =>
        Refused(SafetensorsBytes.OneTensor("""{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}""", 8), "not a 64-bit integer");

    [Fact]
    public void Metadata_values_must_be_strings() =>
        Refused(SafetensorsBytes.File("""{"__metadata__":{"epoch":3}}""", []), "__metadata__");

    [Fact]
    public void A_missing_file_is_refused_naming_it()
    {
        var path = _dir.File("absent.safetensors");
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadLayout(path));
        Assert.Contains("absent.safetensors", e.Message);
        Assert.Contains("no such file", e.Message);
    }

    [Fact]
    public void A_directory_without_a_checkpoint_is_refused()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.ReadLayout(_dir.Path));
        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("neither", e.Message);
    }

    [Fact]
    public void An_empty_header_object_is_a_valid_empty_file()
    {
        using var file = SafetensorsFile.Open(_dir.Write("empty.safetensors", SafetensorsBytes.File("{}", [])));
        Assert.Empty(file.Specs);
    }

    private void Refused(byte[] bytes, string word)
    {
        var path = _dir.Write("bad.safetensors", bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(word, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.IsType<EvolverException>(e, exactMatch: false);
    }
}
