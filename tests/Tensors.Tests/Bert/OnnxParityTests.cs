using System.Diagnostics;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Models.Bert;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Bert;

/// <summary>
/// The proof of the import: the original ONNX model run by ONNX Runtime and our TorchSharp encoder on the
/// imported weights give the same last hidden state on real sentences (a padded batch, compared where the
/// attention mask is 1, which also checks that padding is masked out).
/// </summary>
public sealed class OnnxParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData(PretrainedEncoder.MiniLM)]
    [InlineData(PretrainedEncoder.ArcticXs)]
    public void Imported_encoder_matches_onnx_runtime_on_real_sentences(PretrainedEncoder encoder)
    {
        var watch = Stopwatch.StartNew();
        var batch = new TextBatcher(BertAssets.Tokenizer).Make(BertAssets.Sentences, CPU);
        var (rows, length) = ((int)batch.Features.shape[0], (int)batch.Features.shape[1]);
        var ids = batch.Features.data<long>().ToArray();
        var mask = batch.AttentionMask!.data<long>().ToArray();

        using var session = new InferenceSession(BertAssets.Onnx(encoder));
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], session.InputMetadata.Keys);
        int[] dims = [rows, length];
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], dims)),
        ]);
        var expected = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
        var onnxTime = watch.Elapsed;

        using var scope = NewDisposeScope();
        using var model = BertClassifier.FromEncoder(BertAssets.Import(encoder).Weights, BertAssets.Import(encoder).Config, classCount: 2);
        model.eval();
        using var noGrad = no_grad();
        var actual = model.Encode(batch).data<float>().ToArray();
        var hidden = model.Config.HiddenSize;
        Assert.Equal(expected.Length, actual.Length);

        var maxDiff = 0.0;
        for (var token = 0; token < rows * length; token++)
        {
            if (mask[token] == 0)
            {
                continue;   // padded positions are never read downstream; their values are arbitrary
            }
            for (var h = 0; h < hidden; h++)
            {
                var i = token * hidden + h;
                maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
            }
        }
        output.WriteLine($"{encoder}: {rows}x{length} tokens, max |ORT - TorchSharp| = {maxDiff:E3}; " +
            $"ORT {onnxTime.TotalMilliseconds:F0} ms, total {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(maxDiff <= Tolerance, $"{encoder}: max |difference| {maxDiff:E3} exceeds {Tolerance:E0}");
    }

    [Fact]
    public void MiniLM_pooler_matches_the_onnx_pooler_output()
    {
        var batch = new TextBatcher(BertAssets.Tokenizer).Make(BertAssets.Sentences[..3], CPU);
        var dims = batch.Features.shape.Select(d => (int)d).ToArray();
        using var session = new InferenceSession(BertAssets.Onnx(PretrainedEncoder.MiniLM));
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(batch.Features.data<long>().ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(batch.AttentionMask!.data<long>().ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[dims[0] * dims[1]], dims)),
        ]);
        // The export's second output is the pooler's Tanh, under an anonymous name.
        var pooled = results.Single(r => r.Name != "last_hidden_state").AsTensor<float>().ToArray();

        using var scope = NewDisposeScope();
        var import = BertAssets.Import(PretrainedEncoder.MiniLM);
        using var model = BertClassifier.FromEncoder(import.Weights, import.Config, classCount: 2, BertPooling.Cls);
        model.eval();
        using var noGrad = no_grad();
        var ours = model.Pool(model.Encode(batch)).data<float>().ToArray();
        Assert.Equal(pooled.Length, ours.Length);
        var maxDiff = pooled.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"MiniLM pooler: max |ORT - TorchSharp| = {maxDiff:E3}");
        Assert.True(maxDiff <= Tolerance, $"pooler max |difference| {maxDiff:E3}");
    }

    [Fact]
    public void Unpadded_sentence_encodes_the_same_alone_and_in_a_padded_batch()
    {
        using var scope = NewDisposeScope();
        var import = BertAssets.Import(PretrainedEncoder.ArcticXs);
        using var model = BertClassifier.FromEncoder(import.Weights, import.Config, classCount: 2);
        model.eval();
        using var noGrad = no_grad();
        var batcher = new TextBatcher(BertAssets.Tokenizer);
        var alone = model.Encode(batcher.Make([BertAssets.Sentences[0]], CPU));
        var padded = model.Encode(batcher.Make(BertAssets.Sentences[..2], CPU));
        var length = alone.shape[1];
        Assert.True(padded.shape[1] > length);
        var diff = (padded[0].narrow(0, 0, length) - alone[0]).abs().max().item<float>();
        Assert.True(diff <= 1e-5, $"padding changed real tokens by {diff:E3}");
    }
}
