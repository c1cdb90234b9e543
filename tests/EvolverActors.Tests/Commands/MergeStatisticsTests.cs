using EvolverActors.Host.Commands;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static EvolverActors.Tests.Merging.MergeTestData;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Commands;

/// <summary>
/// What <c>merge --fisher/--gram</c> accepts: statistics that say what they are (<see cref="StatisticsFiles"/>), older
/// ones that look like what they should be, and nothing else — a model folder given as statistics is refused with
/// one line that names it and what it is, instead of merging with its weights taken for Fisher values.
/// </summary>
public sealed class MergeStatisticsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A model with negative weights (as every real one has): encoder [2, 3], classifier [2].</summary>
    private string Model(string name, float scale, float bad = 0)
    {
        using var scope = NewDisposeScope();
        using var weights = WeightSet.Adopt(
        [
            ("encoder.weight", (arange(6, ScalarType.Float32) - 2.5f).mul_(scale).reshape(2, 3)),
            ("classifier.weight", tensor(new[] { scale, -scale + bad })),
        ]);
        var path = _dir.File(name);
        Checkpoint.Save(path, weights);
        return path;
    }

    private static WeightSet FisherSet(float value) => WeightSet.Adopt(
    [
        ("encoder.weight", full(2, 3, value)),
        ("classifier.weight", full(2, value)),
    ]);

    /// <summary>XᵀX of a fixed 4 × 3 input: symmetric, positive definite.</summary>
    private static WeightSet GramSet(float scale)
    {
        using var inputs = tensor(new[] { 1f, 0, 2, -1, 1, 0, 0, 3, 1, 2, -1, 1 }).reshape(4, 3).mul_(scale);
        return WeightSet.Adopt([("encoder.weight", inputs.T.matmul(inputs))]);
    }

    /// <summary>A statistics file: declared (as evolver writes them now), or as older builds wrote them.</summary>
    private string Statistics(string name, WeightSet set, StatisticsKind kind, string how = "declared")
    {
        var path = _dir.File(name + ".safetensors");
        switch (how)
        {
            case "declared":
                StatisticsFiles.Save(path, set, kind);
                break;
            case "zoo": // zoo builds before the declaration: {"content": "fisher" | "gram"}
                SafetensorsWriter.Write(path, set.Entries(), new Dictionary<string, string> { ["format"] = "pt", ["content"] = StatisticsFiles.Code(kind) });
                break;
            default: // `evolver stats` before the declaration: no metadata at all
                SafetensorsWriter.Write(path, set.Entries());
                break;
        }
        set.Dispose();
        return path;
    }

    private (int Code, string Error) Merge(string method, string option, string[] statistics, params string[] models)
    {
        var (code, _, error) = CliRunner.Run(["merge", "-m", method, "--out", _dir.File("merged"), .. statistics.SelectMany(s => new[] { option, s }), .. models]);
        return (code, error);
    }

    private void AssertRefused(int code, string error, string expected)
    {
        Assert.Equal(Cli.UserError, code);
        Assert.Equal("error: " + expected, error.TrimEnd());
        Assert.False(Directory.Exists(_dir.File("merged")), "nothing is written");
    }

    [Theory]
    [InlineData("declared")]
    [InlineData("zoo")]
    [InlineData("legacy")]
    public void Fisher_statistics_of_every_vintage_weigh_the_merge(string how)
    {
        var a = Model("a", 1);
        var b = Model("b", 3);
        var (code, error) = Merge("fisher", "--fisher",
            [Statistics("fa", FisherSet(1), StatisticsKind.Fisher, how), Statistics("fb", FisherSet(3), StatisticsKind.Fisher, how)], a, b);

        Assert.True(code == 0, error);
        using var merged = Checkpoint.Load(_dir.File("merged"));
        using var expected = Checkpoint.Load(a);
        // (1·x + 3·3x) / (1 + 3) = 2.5x
        AssertClose([.. expected["encoder.weight"].mul(2.5f).data<float>()], merged["encoder.weight"], 1e-5);
    }

    [Theory]
    [InlineData("declared")]
    [InlineData("legacy")]
    public void Gram_statistics_of_every_vintage_feed_regmean(string how)
    {
        var (code, error) = Merge("regmean", "--gram",
            [Statistics("ga", GramSet(1), StatisticsKind.Gram, how), Statistics("gb", GramSet(2), StatisticsKind.Gram, how)], Model("a", 1), Model("b", 3));

        Assert.True(code == 0, error);
    }

    [Fact]
    public void A_model_folder_given_as_fisher_statistics_is_refused_naming_it()
    {
        var a = Model("a", 1);
        var b = Model("b", 3);

        var (code, error) = Merge("fisher", "--fisher", [a, b], a, b);

        AssertRefused(code, error,
            $"{a}: is a model checkpoint, not Fisher statistics (tensor 'classifier.weight' has negative values, which a Fisher diagonal cannot have)");
    }

    [Fact]
    public void A_model_folder_given_as_gram_statistics_is_refused_naming_it()
    {
        var a = Model("a", 1);
        var b = Model("b", 3);

        var (code, error) = Merge("regmean", "--gram", [b, a], a, b);

        AssertRefused(code, error,
            $"{b}: is a model checkpoint, not Gram statistics (tensor 'classifier.weight' is for a 1-D model tensor [2]; Gram matrices are for 2-D linear weights)");
    }

    [Theory]
    [InlineData("declared", " (declared in its __metadata__)")]
    [InlineData("zoo", " (declared in its __metadata__)")]
    [InlineData("legacy", "")]
    public void One_kind_of_statistics_given_as_the_other_is_refused(string how, string declared)
    {
        var a = Model("a", 1);
        var b = Model("b", 3);
        var gram = Statistics("g", GramSet(1), StatisticsKind.Gram, how);
        var fisher = Statistics("f", FisherSet(1), StatisticsKind.Fisher, how);

        var (code, error) = Merge("fisher", "--fisher", [gram, gram], a, b);
        AssertRefused(code, error, $"{gram}: holds Gram statistics{declared}, not Fisher statistics");

        (code, error) = Merge("regmean", "--gram", [fisher, fisher], a, b);
        AssertRefused(code, error, $"{fisher}: holds Fisher statistics{declared}, not Gram statistics");
    }

    [Fact]
    public void Statistics_given_as_a_model_are_refused()
    {
        var fisher = Statistics("f", FisherSet(1), StatisticsKind.Fisher);

        var (code, error) = Merge("average", "--fisher", [], fisher, fisher);

        AssertRefused(code, error, $"{fisher}: holds Fisher statistics (declared in its __metadata__), not a model checkpoint");
    }

    [Fact]
    public void Declared_statistics_of_another_model_and_unknown_kinds_are_refused()
    {
        var a = Model("a", 1);
        var b = Model("b", 3);
        using (var other = WeightSet.Adopt([("encoder.weight", ones(3, 2)), ("classifier.weight", ones(2))]))
        {
            var path = _dir.File("other.safetensors");
            StatisticsFiles.Save(path, other, StatisticsKind.Fisher);
            var (code, error) = Merge("fisher", "--fisher", [path, path], a, b);
            AssertRefused(code, error, $"{path}: Fisher statistics that do not fit the models: tensor 'encoder.weight' has shape [3, 2], the model's is [2, 3]");
        }
        using (var hessian = FisherSet(1))
        {
            var path = _dir.File("hessian.safetensors");
            SafetensorsWriter.Write(path, hessian.Entries(), new Dictionary<string, string> { [StatisticsFiles.MetadataKey] = "hessian" });
            var (code, error) = Merge("fisher", "--fisher", [path, path], a, b);
            AssertRefused(code, error, $"{path}: __metadata__ 'evolver.statistics' is 'hessian': expected fisher or gram");
        }
    }

    [Fact]
    public void A_model_with_nan_weights_is_refused_before_merging()
    {
        var a = Model("a", 1);
        var b = Model("b", 3, bad: float.NaN);

        var (code, error) = Merge("average", "--fisher", [], a, b);

        AssertRefused(code, error, $"{b}: tensor 'classifier.weight' has NaN or infinite values");
    }

    [Fact]
    public void An_output_directory_holding_an_input_is_refused_and_the_input_kept()
    {
        var a = Model("a", 1);
        var b = Model("b", 3);
        var before = File.ReadAllBytes(Path.Combine(a, Checkpoint.SingleFileName));

        var (code, _, error) = CliRunner.Run("merge", "-m", "average", "--out", a, a, b);

        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: --out {a}: holds the input {a}; the merge would overwrite it: choose another directory", error.TrimEnd());
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(a, Checkpoint.SingleFileName)));
    }

    [Fact]
    public void Statistics_files_declare_their_kind()
    {
        var fisher = Statistics("f", FisherSet(1), StatisticsKind.Fisher);
        using var reader = Checkpoint.Open(fisher);

        Assert.Equal("fisher", reader.Metadata["evolver.statistics"]);
        Assert.Equal("pt", reader.Metadata["format"]);
        Assert.Equal(StatisticsKind.Fisher, StatisticsFiles.Declared(reader.Metadata, fisher));
        Assert.Null(StatisticsFiles.Declared(new Dictionary<string, string> { ["format"] = "pt" }, "x"));
        using var model = Checkpoint.Load(Model("a", 1));
        using var loaded = StatisticsFiles.Load(fisher, StatisticsKind.Fisher, model.Layout);
        Assert.Equal(model.Names.Order(StringComparer.Ordinal), loaded.Names.Order(StringComparer.Ordinal));
    }
}
