using System.Text.RegularExpressions;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Merging.MergeTestData;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Merging;

/// <summary>average and task-arithmetic on hand-computed tiny tensors; shared behaviour (exclusion, dtypes).</summary>
public sealed class LinearMergeTests
{
    [Fact]
    public void Average_is_the_elementwise_mean_of_vectors_and_matrices()
    {
        // [1,2,3,4] + [3,4,5,6] + [2,0,1,-1] = [6,6,9,9] → /3 = [2,2,3,3]
        // [[1,0],[0,1]] + [[3,2],[1,1]] + [[2,1],[2,1]] = [[6,3],[3,3]] → /3 = [[2,1],[1,1]]
        using var a = Set(("w", [1, 2, 3, 4], [4]), ("linear.weight", [1, 0, 0, 1], [2, 2]));
        using var b = Set(("w", [3, 4, 5, 6], [4]), ("linear.weight", [3, 2, 1, 1], [2, 2]));
        using var c = Set(("w", [2, 0, 1, -1], [4]), ("linear.weight", [2, 1, 2, 1], [2, 2]));

        using var merged = MergeRegistry.Get("average").Merge([a, b, c], MergeInputs.None);

        AssertClose([2, 2, 3, 3], merged["w"]);
        AssertClose([2, 1, 1, 1], merged["linear.weight"]);
        Assert.Equal([2L, 2L], merged["linear.weight"].shape);
    }

    [Fact]
    public void Task_arithmetic_adds_lambda_times_the_summed_task_vectors_to_the_base()
    {
        // τa = [1,2,0,-1], τb = [-1,0,2,0]; Σ = [0,2,2,-1]; 1 + 0.5·Σ = [1,2,2,0.5]
        using var baseModel = Vector(1, 1, 1, 1);
        using var a = Vector(2, 3, 1, 0);
        using var b = Vector(0, 1, 3, 1);
        var method = MergeRegistry.Get("task-arithmetic", ["lambda=0.5"]);

        using var merged = method.Merge([a, b], new MergeInputs { Base = baseModel });

        AssertClose([1, 2, 2, 0.5f], merged["w"]);
    }

    [Fact]
    public void Task_arithmetic_with_default_lambda_of_one_model_gives_that_model()
    {
        using var baseModel = Vector(1, 1, 1, 1);
        using var a = Vector(2, 3, 1, 0);

        using var merged = new TaskArithmeticMerge().Merge([a], new MergeInputs { Base = baseModel });

        AssertClose([2, 3, 1, 0], merged["w"]);
    }

    [Theory]
    [InlineData("task-arithmetic")]
    [InlineData("ties")]
    [InlineData("dare")]
    public void Methods_on_task_vectors_without_a_base_fail_clearly(string name)
    {
        using var a = Vector(1, 2);
        using var b = Vector(3, 4);

        var error = Assert.Throws<EvolverException>(() => MergeRegistry.Get(name).Merge([a, b], MergeInputs.None));

        Assert.Contains($"merge method '{name}' needs a base model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Excluded_and_integer_tensors_are_copied_from_the_first_model()
    {
        using var a = WeightSet.Adopt(
        [
            ("w", tensor(new float[] { 1, 2 })),
            ("classifier.weight", tensor(new float[] { 10, 20 })),
            ("position_ids", tensor(new long[] { 0, 1, 2 })),
        ]);
        using var b = WeightSet.Adopt(
        [
            ("w", tensor(new float[] { 3, 4 })),
            ("classifier.weight", tensor(new float[] { 30, 40 })),
            ("position_ids", tensor(new long[] { 5, 6, 7 })),
        ]);
        var inputs = new MergeInputs { Base = a, Exclude = new Regex("^classifier\\.") };

        foreach (var name in MergeRegistry.Names)
        {
            using var merged = MergeRegistry.Get(name).Merge([a, b], inputs);
            AssertClose([10, 20], merged["classifier.weight"]);
            Assert.Equal(ScalarType.Int64, merged["position_ids"].dtype);
            Assert.Equal([0L, 1L, 2L], merged["position_ids"].data<long>().ToArray());
        }
        using var averaged = MergeRegistry.Get("average").Merge([a, b], inputs);
        AssertClose([2, 3], averaged["w"]);
    }

    [Fact]
    public void Half_precision_models_are_merged_in_float32_and_returned_in_their_dtype()
    {
        using var a32 = Vector(1, 2, 3, 4);
        using var b32 = Vector(2, 3, 4, 6);
        using var a = a32.To(CPU, ScalarType.Float16);
        using var b = b32.To(CPU, ScalarType.Float16);

        using var merged = new AverageMerge().Merge([a, b], MergeInputs.None);

        Assert.Equal(ScalarType.Float16, merged["w"].dtype);
        AssertClose([1.5f, 2.5f, 3.5f, 5], merged["w"]);
    }

    [Fact]
    public void Members_with_different_layouts_are_rejected()
    {
        using var a = Vector(1, 2);
        using var b = Vector(1, 2, 3);

        Assert.Throws<PopulationMismatchException>(() => new AverageMerge().Merge([a, b], MergeInputs.None));
    }

    [Fact]
    public void Rebuild_into_an_existing_set_equals_the_average()
    {
        using var generator = new Generator(7);
        var members = RandomPopulation(3, generator);
        var inputs = new MergeInputs { Exclude = new Regex("^head\\.") };
        using var expected = new AverageMerge().Merge(members, inputs);
        using var destination = members[1].Clone();

        AverageMerge.RebuildInto(destination, members, inputs.Exclude);

        AssertSetsClose(expected, destination);
        DisposeAll(members);
    }

    [Fact]
    public void Linear_weighs_each_model_and_per_layer_weights_override_them_in_their_layer()
    {
        using var a = Set(("fc1.weight", [4, 0], [2]), ("fc2.weight", [4, 0], [2]));
        using var b = Set(("fc1.weight", [0, 4], [2]), ("fc2.weight", [0, 4], [2]));

        using var weighted = MergeRegistry.Get("linear", ["weights=1:3"]).Merge([a, b], MergeInputs.None);
        AssertClose([1, 3], weighted["fc1.weight"]);
        AssertClose([1, 3], weighted["fc2.weight"]);

        var perLayer = new LinearOptions { Weights = [1, 3], LayerWeights = new Dictionary<string, IReadOnlyList<double>> { ["fc2"] = [0.5, 0.5] } };
        using var layered = new LinearMerge(perLayer).Merge([a, b], MergeInputs.None);
        AssertClose([1, 3], layered["fc1.weight"]);
        AssertClose([2, 2], layered["fc2.weight"]);

        using var equal = MergeRegistry.Get("linear").Merge([a, b], MergeInputs.None);
        using var average = MergeRegistry.Get("average").Merge([a, b], MergeInputs.None);
        AssertSetsClose(average, equal);
    }

    [Fact]
    public void Linear_options_survive_the_round_trip_through_a_run_configs_key_values()
    {
        var options = new LinearOptions
        {
            Weights = [0.1, 0.9],
            LayerWeights = new Dictionary<string, IReadOnlyList<double>> { ["encoder.layer.3"] = [1.0 / 3, 2.0 / 3], ["fc1"] = [0.25, 0.75] },
        };
        var parameters = options.ToParameters();
        Assert.Equal("encoder.layer.3@0.3333333333333333:0.6666666666666666;fc1@0.25:0.75", parameters["layer-weights"]);
        var parsed = LinearOptions.Parse(parameters);
        Assert.Equal(options.Weights, parsed.Weights);
        Assert.Equal(options.LayerWeights["encoder.layer.3"], parsed.LayerWeights!["encoder.layer.3"]);
        Assert.Equal(options.LayerWeights["fc1"], parsed.LayerWeights["fc1"]);
        var error = Assert.Throws<EvolverException>(() => LinearOptions.Parse(new Dictionary<string, string> { ["layer-weights"] = "fc1:0.5:0.5" }));
        Assert.Equal("merge method 'linear': layer-weights entry 'fc1:0.5:0.5' is not LAYER@w0:w1:…", error.Message);
    }

    [Theory]
    [InlineData("weights=1:-1", "must be finite numbers ≥ 0 with a positive sum")]
    [InlineData("weights=0:0", "must be finite numbers ≥ 0 with a positive sum")]
    [InlineData("weights=1:x", "must be finite numbers ≥ 0 with a positive sum")]
    [InlineData("weights=1:1:1", "3 weights for 2 models at tensor 'w'")]
    public void Linear_refuses_weights_it_cannot_use_in_one_line(string parameter, string expected)
    {
        using var a = Vector(1, 2);
        using var b = Vector(3, 4);
        var error = Assert.Throws<EvolverException>(() => MergeRegistry.Get("linear", [parameter]).Merge([a, b], MergeInputs.None));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("encoder.layer.3.attention.self.query.weight", "encoder.layer.3")]
    [InlineData("model.layers.10.mlp.up_proj.weight", "model.layers.10")]
    [InlineData("fc1.weight", "fc1")]
    [InlineData("embeddings.word_embeddings.weight", "embeddings.word_embeddings")]
    [InlineData("w", "w")]
    public void Layer_keys_follow_the_layer_number_else_the_module(string tensor, string layer) =>
        Assert.Equal(layer, LayerGroups.KeyOf(tensor));
}
