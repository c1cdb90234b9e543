using System.Text.Json;
using System.Text.RegularExpressions;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Checkpoints;

/// <summary>
/// Merging checkpoints tensor by tensor (<see cref="CheckpointMerge"/>) gives what every method's in-memory merge gives,
/// bit for bit; the tensor-by-tensor writer (<see cref="CheckpointWriter"/>) writes what <see cref="SafetensorsWriter"/>
/// writes, sharded the Hugging Face way; the companion files are found by one list.
/// </summary>
public sealed class StreamingMergeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Each method with parameters that make it do something (ties trims, dare drops).</summary>
    public static TheoryData<string, string[], string> Methods()
    {
        var data = new TheoryData<string, string[], string>();
        foreach (var dtype in new[] { "f32", "bf16" })
        {
            data.Add("average", [], dtype);
            data.Add("task-arithmetic", ["lambda=0.7"], dtype);
            data.Add("ties", ["density=0.4", "lambda=0.9"], dtype);
            data.Add("dare", ["drop-rate=0.3", "seed=5"], dtype);
            data.Add("fisher", [], dtype);
            data.Add("regmean", ["alpha=0.8"], dtype);
        }
        return data;
    }

    private static WeightSet Member(Generator g, ScalarType dtype) => WeightSet.Adopt(
    [
        ("z.weight", randn([6, 5], generator: g).to_type(dtype)),
        ("a.bias", randn([6], generator: g).to_type(dtype)),
        ("emb", randn([7, 3], generator: g).to_type(dtype)),
        ("ids", randint(0, 100, [4], dtype: ScalarType.Int64, generator: g)),
        ("head.weight", randn([2, 6], generator: g).to_type(dtype)),
    ]);

    /// <summary>Three models, a base, Fisher (not for every tensor) and Grams (for z.weight), written as files.</summary>
    private (string[] Models, string Base, string[] Fisher, string[] Grams) Inputs(ScalarType dtype)
    {
        using var g = new Generator(1234);
        var models = new string[3];
        var fisher = new string[3];
        var grams = new string[3];
        for (var k = 0; k < 3; k++)
        {
            using var scope = NewDisposeScope();
            using var member = Member(g, dtype);
            // Sharded inputs for one model: the reader must not care how a model is stored.
            models[k] = _dir.File($"m{k}");
            Checkpoint.Save(models[k], member, maxShardBytes: k == 1 ? 64 : long.MaxValue);
            using var f = WeightSet.Adopt([("z.weight", rand([6, 5], generator: g).add_(0.1)), ("emb", rand([7, 3], generator: g).add_(0.1))]);
            fisher[k] = _dir.File($"f{k}.safetensors");
            SafetensorsWriter.Write(fisher[k], f.Entries());
            var x = randn([9, 5], generator: g);
            using var gram = WeightSet.Adopt([("z.weight", x.T.matmul(x).add_(eye(5)))]);
            grams[k] = _dir.File($"g{k}.safetensors");
            SafetensorsWriter.Write(grams[k], gram.Entries());
        }
        using (var baseModel = Member(g, dtype))
        {
            Checkpoint.Save(_dir.File("base"), baseModel);
        }
        return (models, _dir.File("base"), fisher, grams);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Streaming_merge_equals_the_in_memory_merge_bit_for_bit(string method, string[] parameters, string dtype)
    {
        var type = DTypes.ParseUserName(dtype);
        var (models, baseModel, fisher, grams) = Inputs(type);
        var exclude = new Regex("^head");
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };

        var loaded = models.Select(m => Checkpoint.Load(m)).ToList();
        var fishers = fisher.Select(f => Checkpoint.Load(f)).ToList();
        var gramSets = grams.Select(f => Checkpoint.Load(f)).ToList();
        using var baseSet = Checkpoint.Load(baseModel);
        try
        {
            var inputs = new MergeInputs { Base = baseSet, Fisher = fishers, Grams = gramSets, Exclude = exclude };
            using var expected = MergeRegistry.Get(method, parameters).Merge(loaded, inputs);
            var expectedFile = _dir.File("expected.safetensors");
            SafetensorsWriter.Write(expectedFile, expected.Entries(), metadata);

            var request = new CheckpointMergeRequest(MergeRegistry.Get(method, parameters), models)
            {
                Base = baseModel,
                Fisher = fisher,
                Grams = grams,
                Exclude = exclude,
                Metadata = metadata,
            };
            var result = CheckpointMerge.Run(request, _dir.File("streamed"));

            Assert.Equal([_dir.File("streamed/model.safetensors")], result.Files);
            Assert.Equal(File.ReadAllBytes(expectedFile), File.ReadAllBytes(result.Files[0]));
            Assert.Null(WeightLayout.FirstMismatch(expected.Layout, "in memory", result.Layout, "streamed"));

            // Sharded, one tensor per shard: the same tensors, bit for bit.
            var sharded = CheckpointMerge.Run(request with { MaxShardBytes = 1 }, _dir.File("sharded"));
            Assert.Equal(expected.Count + 1, sharded.Files.Count);
            using var back = Checkpoint.Load(_dir.File("sharded"));
            AssertIdentical(expected, back);
        }
        finally
        {
            loaded.Concat(fishers).Concat(gramSets).ToList().ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void Output_dtype_is_applied_after_the_merge_as_the_in_memory_path_converts()
    {
        var (models, _, _, _) = Inputs(ScalarType.Float32);
        var loaded = models.Select(m => Checkpoint.Load(m)).ToList();
        try
        {
            using var merged = new AverageMerge().Merge(loaded, MergeInputs.None);
            using var expected = merged.To(CPU, ScalarType.BFloat16);
            var result = CheckpointMerge.Run(new CheckpointMergeRequest(new AverageMerge(), models) { OutputType = ScalarType.BFloat16 }, _dir.File("out"));
            using var back = Checkpoint.Load(_dir.File("out"));
            AssertIdentical(expected, back);
            Assert.Equal(ScalarType.Int64, result.Layout.Specs.Single(s => s.Name == "ids").DType);
            Assert.Equal(ScalarType.BFloat16, result.Layout.Specs.Single(s => s.Name == "emb").DType);
        }
        finally
        {
            loaded.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void A_nan_part_way_names_the_input_and_leaves_no_output_directory()
    {
        var (models, _, _, _) = Inputs(ScalarType.Float32);
        using (var bad = Checkpoint.Load(models[2]))
        {
            bad["emb"][3, 1].fill_(float.PositiveInfinity);
            Checkpoint.Save(models[2], bad);
        }
        var output = _dir.File("deep/out");

        var error = Assert.Throws<EvolverException>(() => CheckpointMerge.Run(new CheckpointMergeRequest(new AverageMerge(), models), output));

        Assert.Equal($"{models[2]}: tensor 'emb' has NaN or infinite values", error.Message);
        Assert.False(Directory.Exists(_dir.File("deep")), "the directories the merge created are gone");
    }

    [Fact]
    public void A_method_that_needs_a_base_fails_before_writing()
    {
        var (models, _, _, _) = Inputs(ScalarType.Float32);
        var error = Assert.Throws<EvolverException>(() => CheckpointMerge.Run(new CheckpointMergeRequest(new TiesMerge(), models), _dir.File("out")));
        Assert.Contains("needs a base model", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.File("out")));
    }

    private static WeightSet Weights() => WeightSet.Adopt(
    [
        ("a", arange(4, ScalarType.Float32)),
        ("b", full(4, 2f)),
        ("c", arange(8, ScalarType.Float32)),
        ("d", tensor(new long[] { 7 })),
        ("e", arange(8, ScalarType.Float32).to(ScalarType.BFloat16)),
        ("f", zeros(0)),
    ]);

    [Fact]
    public void Tensors_written_in_any_order_give_the_bytes_safetensors_writes()
    {
        using var weights = Weights();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["z"] = "last" };
        SafetensorsWriter.Write(_dir.File("reference.safetensors"), weights.Entries(), metadata);

        using (var writer = new CheckpointWriter(_dir.File("out"), weights.Layout.Specs, metadata))
        {
            foreach (var (name, tensor) in weights.Entries().Reverse())
            {
                writer.Write(name, tensor);
            }
            Assert.Equal([_dir.File("out/model.safetensors")], writer.Commit());
        }

        Assert.Equal(File.ReadAllBytes(_dir.File("reference.safetensors")), File.ReadAllBytes(_dir.File("out/model.safetensors")));
        Assert.Equal(["model.safetensors"], Directory.GetFileSystemEntries(_dir.File("out")).Select(Path.GetFileName));
    }

    [Fact]
    public void A_shard_size_below_the_largest_tensor_gives_one_tensor_per_shard_and_a_valid_index()
    {
        using var weights = Weights();
        using (var writer = new CheckpointWriter(_dir.Path, weights.Layout.Specs, maxShardBytes: 10))
        {
            foreach (var (name, tensor) in weights.Entries())
            {
                writer.Write(name, tensor);
            }
            Assert.Equal(7, writer.Commit().Count);
        }

        using var index = JsonDocument.Parse(File.ReadAllText(_dir.File(Checkpoint.IndexFileName)));
        Assert.Equal(88, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(["a", "b", "c", "d", "e", "f"], map.Keys);
        Assert.Equal([.. Enumerable.Range(1, 6).Select(i => $"model-{i:D5}-of-00006.safetensors")], map.Values);
        using var back = Checkpoint.Load(_dir.Path);
        AssertIdentical(weights, back);
    }

    [Fact]
    public void An_uncommitted_or_incomplete_checkpoint_leaves_nothing_and_replaces_nothing()
    {
        using var weights = Weights();
        Checkpoint.Save(_dir.File("old"), weights);
        var before = File.ReadAllBytes(_dir.File("old/model.safetensors"));

        using (var writer = new CheckpointWriter(_dir.File("old"), weights.Layout.Specs, maxShardBytes: 20))
        {
            writer.Write("a", weights["a"]);
            writer.Write("c", weights["c"]);
            var missing = Assert.Throws<EvolverException>(() => writer.Commit());
            Assert.Contains("not written yet", missing.Message, StringComparison.Ordinal);
            var twice = Assert.Throws<EvolverException>(() => writer.Write("a", weights["a"]));
            Assert.Contains("written twice", twice.Message, StringComparison.Ordinal);
            using var wrong = zeros(3);
            var shape = Assert.Throws<EvolverException>(() => writer.Write("b", wrong));
            Assert.Contains("the header says F32 [4]", shape.Message, StringComparison.Ordinal);
        }

        Assert.Equal(["model.safetensors"], Directory.GetFileSystemEntries(_dir.File("old")).Select(Path.GetFileName));
        Assert.Equal(before, File.ReadAllBytes(_dir.File("old/model.safetensors")));
    }

    [Fact]
    public void A_directory_that_cannot_be_created_is_named_in_the_error()
    {
        var file = _dir.Write("a-file", [1, 2, 3]);
        using var weights = Weights();
        var error = Assert.Throws<EvolverException>(() => new CheckpointWriter(Path.Combine(file, "out"), weights.Layout.Specs));
        Assert.StartsWith($"{Path.Combine(file, "out")}: cannot create the checkpoint directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Companions_are_the_config_tokenizer_and_code_files_of_the_first_model()
    {
        var model = _dir.File("model");
        Directory.CreateDirectory(model);
        string[] wanted = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "vocab.txt", "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model", "added_tokens.json"];
        foreach (var name in wanted.Concat(["modeling_custom.py", "model.safetensors.index.json", "merge-manifest.json", "notes.txt", "model.safetensors"]))
        {
            File.WriteAllText(Path.Combine(model, name), name);
        }

        var found = CheckpointCompanions.Find(model).Select(Path.GetFileName).ToList();
        Assert.Equal(wanted.Order(StringComparer.Ordinal), found.Where(n => n != "modeling_custom.py").Order(StringComparer.Ordinal));
        Assert.Contains("modeling_custom.py", found);
        // A checkpoint given as its file has the companions of its directory.
        Assert.Equal(found, CheckpointCompanions.Find(Path.Combine(model, "model.safetensors")).Select(Path.GetFileName));

        var copies = CheckpointCompanions.CopyInto(model, _dir.Path);
        Assert.Equal(found.Count, copies.Count);
        Assert.Equal("config.json", File.ReadAllText(_dir.File("config.json")));
    }

    private static void AssertIdentical(WeightSet expected, WeightSet actual)
    {
        Assert.Null(WeightLayout.FirstMismatch(expected.Layout, "expected", actual.Layout, "actual"));
        foreach (var (name, t) in expected.Entries())
        {
            // Bit for bit: the raw bytes (NaN-safe, and -0 differs from +0).
            Assert.True(t.contiguous().bytes.SequenceEqual(actual[name].contiguous().bytes), $"tensor '{name}' differs");
        }
    }
}
