using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Models;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Tasks;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace EvolverActors.Tests.Bert;

/// <summary>
/// Hugging Face BertForSequenceClassification checkpoints (<c>bert.*</c> + <c>classifier.*</c>, a position_ids buffer)
/// load into the bert-classifier family as they are, pool [CLS] through the pooler, and keep their names everywhere.
/// </summary>
public sealed class HuggingFaceNamingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ModelInput Batch()
    {
        long[] ids = [2, 5, 9, 3, 0, 0, 2, 6, 7, 8, 10, 3];
        long[] mask = [.. ids.Select(i => i == 0 ? 0L : 1L)];
        return new ModelInput(tensor(ids, [2, 6]), tensor(mask, [2, 6]), zeros([2, 6], ScalarType.Int64));
    }

    private static BertClassifier Skeleton(string dir, WeightSet weights)
    {
        var model = (BertClassifier)ModelFamilies.SkeletonFor(BertClassifier.FamilyName, weights, dir);
        model.LoadWeights(weights);
        model.eval();
        return model;
    }

    [Fact]
    public void A_hugging_face_checkpoint_loads_as_it_is_and_pools_cls_through_its_pooler_as_BertForSequenceClassification()
    {
        using var weights = TaskFiles.BertWeights(classes: 3, seed: 7);
        var hf = TaskFiles.BertCheckpoint(_dir.File("hf"), weights, huggingFace: true);
        var own = TaskFiles.BertCheckpoint(_dir.File("own"), weights);
        using var hfWeights = Checkpoint.Load(hf, floatType: ScalarType.Float32);
        using var ownWeights = Checkpoint.Load(own, floatType: ScalarType.Float32);
        Assert.Contains("bert.embeddings.position_ids", hfWeights.Names);
        Assert.Contains("bert.pooler.dense.weight", hfWeights.Names);
        Assert.DoesNotContain(hfWeights.Names, n => n.StartsWith("embeddings.", StringComparison.Ordinal));

        using var hfModel = Skeleton(hf, hfWeights);
        using var ownModel = Skeleton(own, ownWeights);
        using var ownCls = new BertClassifier(TaskFiles.TinyBert, 3, BertPooling.Cls, hasPooler: true);
        ownCls.LoadWeights(ownWeights);
        ownCls.eval();
        Assert.Equal((true, BertPooling.Cls, true), (hfModel.HuggingFaceNames, hfModel.Pooling, hfModel.HasPooler));
        Assert.Equal((false, BertPooling.Mean, true), (ownModel.HuggingFaceNames, ownModel.Pooling, ownModel.HasPooler));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = Batch();
        var logits = hfModel.forward(input);
        // The same tensors under the project's names, pooled the same way: the same logits.
        Assert.True(logits.allclose(ownCls.forward(input), rtol: 0, atol: 1e-6), "HF and own names give different logits");
        // BertForSequenceClassification by hand: classifier(tanh(pooler.dense(hidden[:, 0]))).
        var hidden = hfModel.Encode(input);
        var pooled = tanh(linear(hidden.select(1, 0), hfWeights["bert.pooler.dense.weight"], hfWeights["bert.pooler.dense.bias"]));
        var expected = linear(pooled, hfWeights["classifier.weight"], hfWeights["classifier.bias"]);
        Assert.True(logits.allclose(expected, rtol: 0, atol: 1e-5), "HF logits are not CLS through the pooler");
        // The project's own MiniLM-style checkpoints keep mean pooling.
        var mean = linear(BertClassifier.MeanPool(ownModel.Encode(input), input.AttentionMask!), ownWeights["classifier.weight"], ownWeights["classifier.bias"]);
        Assert.True(ownModel.forward(input).allclose(mean, rtol: 0, atol: 1e-5), "own names do not mean-pool");
    }

    [Fact]
    public void Exports_statistics_and_merges_keep_the_hugging_face_names()
    {
        using var a = TaskFiles.BertWeights(classes: 2, seed: 8);
        using var b = TaskFiles.BertWeights(classes: 2, seed: 9);
        var dirA = TaskFiles.BertCheckpoint(_dir.File("a"), a, huggingFace: true);
        TaskFiles.BertCheckpoint(_dir.File("b"), b, huggingFace: true);
        using var hfA = Checkpoint.Load(dirA, floatType: ScalarType.Float32);
        using var hfB = Checkpoint.Load(_dir.File("b"), floatType: ScalarType.Float32);
        using var model = Skeleton(dirA, hfA);

        using var exported = model.ExportWeights();
        Assert.Equal(hfA.Names.Where(n => n != "bert.embeddings.position_ids").Order(StringComparer.Ordinal), exported.Names.Order(StringComparer.Ordinal));

        var texts = new TextSet("dev", ["good film", "bad plot was dull", "great fun"], [1, 0, 1], ["neg", "pos"]);
        var batcher = new TextBatcher(WordPieceTokenizer.Load(dirA), maxLength: 16);
        using var fisher = MergeStatistics.Fisher(model, batcher, texts, examples: 3, seed: 1, CPU);
        using var grams = MergeStatistics.Grams(model, batcher, texts, examples: 3, CPU);
        Assert.Equal(model.parameters().Count(), fisher.Count);
        Assert.All(fisher.Names, n => Assert.Contains(n, hfA.Names));
        Assert.Contains("bert.encoder.layer.1.attention.self.query.weight", grams.Names);
        Assert.Contains("classifier.weight", grams.Names);
        Assert.All(grams.Names, n => Assert.Contains(n, hfA.Names));

        // A merge keeps the names (the position_ids buffer is carried along), and the merged checkpoint loads again.
        using var merged = new AverageMerge().Merge([hfA, hfB], MergeInputs.None);
        Assert.Equal(hfA.Names, merged.Names);
        Checkpoint.Save(_dir.File("merged"), merged);
        File.Copy(Path.Combine(dirA, BertConfig.FileName), Path.Combine(_dir.File("merged"), BertConfig.FileName));
        using var reloaded = Checkpoint.Load(_dir.File("merged"), floatType: ScalarType.Float32);
        using var mergedModel = Skeleton(_dir.File("merged"), reloaded);
        Assert.True(mergedModel.HuggingFaceNames);
    }

    [Fact]
    public void A_tensor_the_family_does_not_know_is_refused_by_its_name()
    {
        using var weights = TaskFiles.BertWeights(classes: 2, seed: 10);
        var dir = TaskFiles.BertCheckpoint(_dir.File("hf"), weights, huggingFace: true);
        using var loaded = Checkpoint.Load(dir, floatType: ScalarType.Float32);
        using var extra = WeightSet.Adopt([.. loaded.Entries().Select(e => (e.Name, e.Tensor.clone())), ("bert.embeddings.extra", zeros(3))]);
        using var model = (BertClassifier)ModelFamilies.SkeletonFor(BertClassifier.FamilyName, extra, dir);
        var error = Assert.Throws<PopulationMismatchException>(() => model.LoadWeights(extra));
        Assert.Equal("tensor 'bert.embeddings.extra' is not a parameter of model family 'bert-classifier'", error.Message);
    }

    [Fact]
    public void A_text_classification_task_scores_a_hugging_face_checkpoint_with_its_id2label()
    {
        using var weights = TaskFiles.BertWeights(classes: 2, seed: 11);
        var dir = TaskFiles.BertCheckpoint(_dir.File("hf"), weights, huggingFace: true,
            configExtras: new() { ["id2label"] = new Dictionary<string, string> { ["0"] = "NEGATIVE", ["1"] = "POSITIVE" } });
        File.WriteAllLines(_dir.File("dev.jsonl"), ["{\"text\": \"good film\", \"label\": \"POSITIVE\"}", "{\"text\": \"awful plot\", \"label\": \"NEGATIVE\"}"]);
        var task = TaskConfigs.Load(TaskFiles.TaskFile(_dir, "kind = text-classification\ndev = dev.jsonl\nmetric = macro-f1"), quick: false);
        var data = task.Load(new TaskLoadContext(0, dir));
        Assert.Equal(["NEGATIVE", "POSITIVE"], data.Dev.ClassNames);

        using var loaded = Checkpoint.Load(dir, floatType: ScalarType.Float32);
        using var evaluator = new Tensors.Evaluation.ResidentEvaluator(ModelFamilies.SkeletonFor(task.Family, loaded, dir), data.Batcher, data.Splits, CPU);
        evaluator.Load(loaded);
        Assert.InRange(evaluator.Evaluate("dev").Get(task.Metric), 0, 1);
    }
}
