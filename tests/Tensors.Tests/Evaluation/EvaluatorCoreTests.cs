using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Evaluation;

public sealed class EvaluatorCoreTests
{
    [Fact]
    public void Accuracy_and_macro_F1_match_a_hand_computed_case()
    {
        // Class 0: TP 1, predicted 2, true 1 → F1 2/3; class 1: TP 2, predicted 2, true 3 → 4/5; class 2: 1.
        var score = Score.FromPredictions([0, 0, 1, 1, 2], [0, 1, 1, 1, 2], 3);
        Assert.Equal(0.8, score.Accuracy, 12);
        Assert.Equal(((2.0 / 3) + 0.8 + 1) / 3, score.MacroF1, 12);
    }

    [Fact]
    public void Cnn_has_the_documented_parameter_names_and_count()
    {
        using var model = new CnnClassifier();
        using var weights = model.ExportWeights();
        // conv1 16·9+16, conv2 32·16·9+32, fc1 1568·64+64, classifier 64·10+10
        Assert.Equal(160 + 4640 + 100416 + 650, weights.ParameterCount);
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "classifier.weight", "classifier.bias"], weights.Names);
    }

    [Fact]
    public void Trained_cnn_separates_a_simple_task_and_scores_are_deterministic()
    {
        random.manual_seed(1);
        var train = SyntheticImages.Bands("train", 400, 4, seed: 1);
        var dev = SyntheticImages.Bands("dev", 100, 4, seed: 2);
        using var model = new CnnClassifier(classes: 4);
        Trainer.Fit(model, new ImageBatcher(), train, new TrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3, Seed = 1 }, CPU);
        using var trained = model.ExportWeights();

        random.manual_seed(2);
        using var evaluator = new ResidentEvaluator(new CnnClassifier(classes: 4), new ImageBatcher(), [dev], CPU, batchSize: 32);
        evaluator.Load(trained);
        var first = evaluator.Evaluate("dev");
        var second = evaluator.Evaluate("dev");
        Assert.True(first.Accuracy > 0.95, $"accuracy {first.Accuracy}");
        Assert.Equal(first, second);
        Assert.True(evaluator.LastLoadMs >= 0);

        using var zeros = trained.ZerosLike();
        evaluator.Load(zeros); // all-zero weights predict one class only
        Assert.InRange(evaluator.Evaluate("dev").Accuracy, 0.2, 0.3);
    }

    [Fact]
    public void Loading_weights_of_another_family_shape_is_refused_with_the_tensor_name()
    {
        using var model = new CnnClassifier(classes: 10);
        using var other = new CnnClassifier(classes: 3).ExportWeights();
        var e = Assert.Throws<Tensors.PopulationMismatchException>(() => model.LoadWeights(other));
        Assert.Contains("classifier.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gram_matrices_equal_the_observed_inputs_products_across_batches()
    {
        random.manual_seed(3);
        var data = SyntheticImages.Bands("data", 50, 4, seed: 3);
        using var model = new CnnClassifier(classes: 4);
        using var grams = MergeStatistics.Grams(model, new ImageBatcher(), data, examples: 50, CPU, batchSize: 8);
        Assert.Equal(["fc1.weight", "classifier.weight"], grams.Names.Order(StringComparer.Ordinal).Reverse());

        using var scope = NewDisposeScope();
        var inputs = new List<Tensor>();
        model.ObserveLinearInputs((name, x) => { if (name == "classifier.weight") { inputs.Add(x.detach().clone().DetachFromDisposeScope()); } });
        using (no_grad())
        {
            model.forward(new ImageBatcher().Make(data, [.. Enumerable.Range(0, 50)], CPU));
        }
        model.ObserveLinearInputs(null);
        var all = cat(inputs, 0);
        inputs.ForEach(t => t.Dispose());
        Assert.True(grams["classifier.weight"].allclose(all.T.matmul(all), rtol: 1e-4, atol: 1e-3));
    }

    [Fact]
    public void Fisher_is_non_negative_shaped_like_the_parameters_and_seeded()
    {
        random.manual_seed(4);
        var data = SyntheticImages.Bands("data", 20, 4, seed: 4);
        using var model = new CnnClassifier(classes: 4);
        using var first = MergeStatistics.Fisher(model, new ImageBatcher(), data, examples: 10, seed: 7, CPU);
        using var second = MergeStatistics.Fisher(model, new ImageBatcher(), data, examples: 10, seed: 7, CPU);
        using var parameters = model.ExportWeights();
        WeightLayout.RequireSame(parameters.Layout, "model", first.Layout, "fisher");
        foreach (var (name, tensor) in first.Entries())
        {
            Assert.True(tensor.min().item<float>() >= 0, name);
            Assert.True(tensor.equal(second[name]).all().item<bool>(), name);
        }
        Assert.True(first["classifier.weight"].sum().item<float>() > 0);
    }
}
