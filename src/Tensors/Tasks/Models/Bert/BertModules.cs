using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EvolverActors.Tensors.Models.Bert;

// TorchSharp names parameters after the fields that hold the modules, so the fields carry Hugging Face's
// names (word_embeddings, LayerNorm, self, ...) and with them the checkpoint's state-dict names.
#pragma warning disable IDE1006

/// <summary>Word + position + token-type embeddings, LayerNorm, dropout (BertEmbeddings).</summary>
internal sealed class BertEmbeddings : Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        dropout = Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Token ids [B, L] and token type ids [B, L] to embeddings [B, L, H]; positions count from 0.</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        var positions = arange(inputIds.shape[1], dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var sum = word_embeddings.forward(inputIds) + position_embeddings.forward(positions) + token_type_embeddings.forward(tokenTypeIds);
        return scope.MoveToOuter(dropout.forward(LayerNorm.forward(sum)));
    }
}

/// <summary>Multi-head scaled dot-product self-attention with an additive mask (BertSelfAttention).</summary>
internal sealed class BertSelfAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly ObservedLinear query;
    private readonly ObservedLinear key;
    private readonly ObservedLinear value;
    private readonly Dropout dropout;
    private readonly long _heads;
    private readonly long _headSize;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        query = new ObservedLinear(config.HiddenSize, config.HiddenSize);
        key = new ObservedLinear(config.HiddenSize, config.HiddenSize);
        value = new ObservedLinear(config.HiddenSize, config.HiddenSize);
        dropout = Dropout(config.AttentionProbsDropoutProb);
        (_heads, _headSize) = (config.NumAttentionHeads, config.HeadSize);
        RegisterComponents();
    }

    /// <summary>Hidden states [B, L, H] and additive mask [B, 1, 1, L] to context [B, L, H].</summary>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = (hidden.shape[0], hidden.shape[1]);
        Tensor Heads(Tensor x) => x.view(batch, length, _heads, _headSize).transpose(1, 2);
        var (q, k, v) = (Heads(query.forward(hidden)), Heads(key.forward(hidden)), Heads(value.forward(hidden)));
        var scores = matmul(q, k.transpose(-1, -2)).div_(Math.Sqrt(_headSize)).add_(additiveMask);
        var probabilities = dropout.forward(scores.softmax(-1));
        var context = matmul(probabilities, v).transpose(1, 2).reshape(batch, length, _heads * _headSize);
        return scope.MoveToOuter(context);
    }
}

/// <summary>Dense, dropout, residual, LayerNorm: the post-LN sub-layer ending (BertSelfOutput and BertOutput).</summary>
internal sealed class BertResidualOutput : Module<Tensor, Tensor, Tensor>
{
    private readonly ObservedLinear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    public BertResidualOutput(long inFeatures, BertConfig config) : base(nameof(BertResidualOutput))
    {
        dense = new ObservedLinear(inFeatures, config.HiddenSize);
        LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        dropout = Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(LayerNorm.forward(dropout.forward(dense.forward(hidden)) + residual));
    }
}

/// <summary>Self-attention and its output sub-layer (BertAttention: <c>self</c>, <c>output</c>).</summary>
internal sealed class BertAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention self;
    private readonly BertResidualOutput output;

    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertResidualOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var context = self.forward(hidden, additiveMask);
        return output.forward(context, hidden);
    }
}

/// <summary>Dense to the FFN width with exact (erf) GELU, as BERT's "gelu" (BertIntermediate).</summary>
internal sealed class BertIntermediate : Module<Tensor, Tensor>
{
    private readonly ObservedLinear dense;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = new ObservedLinear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var projected = dense.forward(hidden);
        return functional.gelu(projected);
    }
}

/// <summary>One transformer block: attention, then the feed-forward network, each post-LN (BertLayer).</summary>
internal sealed class BertLayer : Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;

    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertResidualOutput(config.IntermediateSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var attended = attention.forward(hidden, additiveMask);
        return scope.MoveToOuter(output.forward(intermediate.forward(attended), attended));
    }
}

/// <summary>The stack of layers (BertEncoder: <c>layer.{i}</c>).</summary>
internal sealed class BertEncoder : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        layer = ModuleList([.. Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config))]);
        RegisterComponents();
    }

    public int Count => layer.Count;

    public override Tensor forward(Tensor hidden, Tensor additiveMask) => Layers(hidden, additiveMask, 0, layer.Count);

    /// <summary>Layers [<paramref name="from"/>, <paramref name="to"/>) on <paramref name="hidden"/>, which stays the caller's.</summary>
    public Tensor Layers(Tensor hidden, Tensor additiveMask, int from, int to)
    {
        var current = hidden;
        for (var i = from; i < to; i++)
        {
            var next = layer[i].forward(current, additiveMask);
            if (!ReferenceEquals(current, hidden))
            {
                current.Dispose();
            }
            current = next;
        }
        return ReferenceEquals(current, hidden) ? hidden.alias() : current;
    }
}

/// <summary>Dense + tanh on the first ([CLS]) token (BertPooler); MiniLM ships one, arctic-embed-xs does not.</summary>
internal sealed class BertPooler : Module<Tensor, Tensor>
{
    private readonly ObservedLinear dense;

    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = new ObservedLinear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(dense.forward(hidden.select(1, 0)).tanh());
    }
}
#pragma warning restore IDE1006
