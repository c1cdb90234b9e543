using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EvolverActors.Tensors.Models.Bert;

/// <summary>How a sentence vector is made from the last hidden state.</summary>
public enum BertPooling
{
    /// <summary>Mean over the attention-masked tokens: the sentence-transformers default for MiniLM.</summary>
    Mean,

    /// <summary>The [CLS] token, through the pooler (dense + tanh) when the encoder has one, as BertForSequenceClassification.</summary>
    Cls,
}

/// <summary>
/// The <c>bert-classifier</c> family: a BERT encoder whose parameters carry Hugging Face BertModel names
/// (<c>embeddings.*</c>, <c>encoder.layer.{i}.*</c>, optionally <c>pooler.dense.*</c>) plus a linear head
/// <c>classifier.weight</c> [classes, hidden], <c>classifier.bias</c> on the pooled sentence vector.
/// Inputs are token ids [B, L] with attention mask and token type ids (see <see cref="TextBatcher"/>).
/// <see cref="ForCheckpoint"/> also reads Hugging Face <c>BertForSequenceClassification</c> checkpoints as they are
/// (<c>bert.embeddings.*</c>, <c>bert.encoder.*</c>, <c>bert.pooler.*</c>, <c>classifier.*</c>): their names are kept.
/// </summary>
public sealed class BertClassifier : ClassifierModel
{
    public const string FamilyName = "bert-classifier";
    private const string HeadPrefix = "classifier.";

    /// <summary>The prefix of the encoder's tensors in Hugging Face <c>BertFor*</c> checkpoints.</summary>
    public const string HuggingFacePrefix = "bert.";

    /// <summary>Buffers a Hugging Face checkpoint may carry that the encoder derives itself (positions count from 0, types are given).</summary>
    private static readonly string[] HuggingFaceBuffers = ["bert.embeddings.position_ids", "bert.embeddings.token_type_ids"];

#pragma warning disable IDE1006 // field names are the state-dict names
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;
    private readonly Dropout dropout;
    private readonly ObservedLinear classifier;
#pragma warning restore IDE1006
    private readonly BertPrefixCache _prefix;

    public BertClassifier(BertConfig config, int classCount, BertPooling pooling = BertPooling.Mean, bool hasPooler = false)
        : base(nameof(BertClassifier))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        Config = config.Validated("bert-classifier config");
        ClassCount = classCount;
        Pooling = pooling;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        pooler = hasPooler ? new BertPooler(config) : null;
        dropout = Dropout(config.HiddenDropoutProb);
        classifier = new ObservedLinear(config.HiddenSize, classCount);
        RegisterComponents();
        _prefix = new BertPrefixCache(config.NumHiddenLayers);
        NameObservedLinears();
    }

    public override string Family => FamilyName;
    public override int ClassCount { get; }
    public BertConfig Config { get; }

    /// <summary>Whether the model loads and exports Hugging Face <c>BertForSequenceClassification</c> names.</summary>
    public bool HuggingFaceNames { get; private set; }

    /// <summary>Whether <paramref name="names"/> are a Hugging Face <c>BertFor*</c> checkpoint's (<c>bert.embeddings.*</c>).</summary>
    public static bool HasHuggingFaceNames(IEnumerable<string> names) =>
        names.Any(n => n.StartsWith(HuggingFacePrefix + "embeddings.", StringComparison.Ordinal));

    /// <summary>
    /// A skeleton for a checkpoint with these <paramref name="weights"/>: the head's class count from
    /// <c>classifier.weight</c>; a pooler when the checkpoint has one. A Hugging Face checkpoint keeps its names and
    /// pools as BertForSequenceClassification does ([CLS] through the pooler); the project's own MiniLM zoos
    /// (<c>embeddings.*</c>, <c>encoder.*</c>, <c>classifier.*</c>) keep mean pooling.
    /// </summary>
    public static BertClassifier ForCheckpoint(BertConfig config, WeightSet weights)
    {
        var classes = (int)weights["classifier.weight"].shape[0];
        if (!HasHuggingFaceNames(weights.Names))
        {
            return new BertClassifier(config, classes, BertPooling.Mean, weights.Contains("pooler.dense.weight"));
        }
        var model = new BertClassifier(config, classes, BertPooling.Cls, weights.Contains(HuggingFacePrefix + "pooler.dense.weight"));
        model.UseCheckpointNames(name => name.StartsWith(HeadPrefix, StringComparison.Ordinal) ? name : HuggingFacePrefix + name, HuggingFaceBuffers);
        model.HuggingFaceNames = true;
        return model;
    }
    public BertPooling Pooling { get; }
    public bool HasPooler => pooler is not null;

    /// <summary>Logits [B, classes].</summary>
    public override Tensor forward(ModelInput input)
    {
        using var scope = NewDisposeScope();
        var hidden = Encode(input);
        var pooled = Pooling switch
        {
            BertPooling.Mean => MeanPool(hidden, input.AttentionMask ?? ones_like(input.Features)),
            _ => pooler is null ? hidden.select(1, 0) : pooler.forward(hidden),
        };
        return scope.MoveToOuter(classifier.forward(dropout.forward(pooled)));
    }

    /// <summary>The encoder's last hidden state [B, L, hidden] (what the ONNX export outputs as last_hidden_state).</summary>
    public Tensor Encode(ModelInput input)
    {
        using var scope = NewDisposeScope();
        var ids = input.Features;
        var mask = input.AttentionMask ?? ones_like(ids);
        var types = input.TokenTypeIds ?? zeros_like(ids);
        var dtype = embeddings.parameters().First().dtype;
        // 0 where attended, the most negative float where masked: softmax gives padding exactly zero weight.
        var additive = (1 - mask.unsqueeze(1).unsqueeze(2).to(dtype)) * finfo(dtype).min;
        if (SharedLayersFor(input) is not { } shared)
        {
            return scope.MoveToOuter(encoder.forward(embeddings.forward(ids, types), additive));
        }
        var key = input.ResidentKey!.Value;
        var prefix = _prefix.Get(key);
        if (prefix is null)
        {
            prefix = encoder.Layers(embeddings.forward(ids, types), additive, 0, shared);
            _prefix.Put(key, prefix);
        }
        return scope.MoveToOuter(encoder.Layers(prefix, additive, shared, encoder.Count));
    }

    /// <summary>
    /// How many bottom layers' output <paramref name="input"/> may take from the prefix cache: only a resident evaluator's
    /// batches, in eval mode without gradients or observers; training drops the cache (the weights move).
    /// </summary>
    private int? SharedLayersFor(ModelInput input)
    {
        if (training || is_grad_enabled())
        {
            _prefix.Clear();
            return null;
        }
        if (input.ResidentKey is null || Observing)
        {
            return null;
        }
        _prefix.Activate();
        return _prefix.CachedLayers;
    }

    /// <summary>Bottom units unchanged within rounding are kept, so the prefix cache stays exact for the held weights.</summary>
    protected override IReadOnlySet<string> KeptOnLoad(IReadOnlyList<LoadedTensor> tensors) =>
        _prefix.Load(tensors.Select(t => (t.Name, t.Target, t.Source)));

    /// <summary>Batches whose bottom-layer states are cached (for tests and diagnostics).</summary>
    internal int CachedBatches => _prefix.Count;

    /// <summary>The bottom encoder layers whose output the cache holds or will hold; null when none.</summary>
    internal int? CachedLayers => _prefix.CachedLayers;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _prefix.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>The pooler output [B, hidden] (dense + tanh on [CLS]); only for encoders that have a pooler.</summary>
    public Tensor Pool(Tensor lastHiddenState) =>
        (pooler ?? throw new InvalidOperationException("this encoder has no pooler")).forward(lastHiddenState);

    /// <summary>Mean of the hidden states [B, L, H] over the tokens where <paramref name="attentionMask"/> [B, L] is 1.</summary>
    public static Tensor MeanPool(Tensor hidden, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var weights = attentionMask.unsqueeze(-1).to(hidden.dtype);
        var sum = (hidden * weights).sum(1);
        // sentence-transformers clamps the token count the same way, so an all-padding row gives zeros.
        var count = weights.sum(1).clamp_min(1e-9);
        return scope.MoveToOuter(sum / count);
    }

    /// <summary>
    /// A classifier on a pretrained encoder: the encoder's tensors are copied in by name, the head
    /// (<c>classifier.*</c>) is freshly drawn as transformers does (weight ~ N(0, initializer_range), bias 0)
    /// from its own generator seeded with <paramref name="seed"/>, so two calls with one seed agree.
    /// A pooler is kept exactly when the encoder has one.
    /// </summary>
    public static BertClassifier FromEncoder(WeightSet encoderWeights, BertConfig config, int classCount,
        BertPooling pooling = BertPooling.Mean, long seed = 0)
    {
        var model = new BertClassifier(config, classCount, pooling, hasPooler: encoderWeights.Contains("pooler.dense.weight"));
        try
        {
            model.LoadEncoder(encoderWeights);
            model.ResetHead(seed);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary><see cref="FromEncoder"/> from a directory holding model.safetensors and config.json (as import-onnx writes).</summary>
    public static BertClassifier FromPretrained(string dir, int classCount, BertPooling pooling = BertPooling.Mean, long seed = 0)
    {
        var config = BertConfig.Read(dir);
        using var weights = Checkpoint.Load(dir, floatType: ScalarType.Float32);
        return FromEncoder(weights, config, classCount, pooling, seed);
    }

    /// <summary>Copies every encoder tensor by name; the head is left as it is.</summary>
    public void LoadEncoder(WeightSet encoderWeights)
    {
        _prefix.Clear();
        var state = state_dict();
        using var noGrad = no_grad();
        foreach (var (name, target) in state.Where(kv => !kv.Key.StartsWith(HeadPrefix, StringComparison.Ordinal)))
        {
            if (!encoderWeights.Contains(name))
            {
                throw new PopulationMismatchException($"encoder weights for model family '{Family}' lack tensor '{name}'");
            }
            var source = encoderWeights[name];
            if (!source.shape.SequenceEqual(target.shape))
            {
                throw new PopulationMismatchException(
                    $"tensor '{name}' has shape [{string.Join(", ", source.shape)}] but model family '{Family}' needs [{string.Join(", ", target.shape)}]");
            }
            target.copy_(source);
        }
        var extra = encoderWeights.Names.FirstOrDefault(n => !state.ContainsKey(n) || n.StartsWith(HeadPrefix, StringComparison.Ordinal));
        if (extra is not null)
        {
            throw new PopulationMismatchException($"tensor '{extra}' is not an encoder parameter of model family '{Family}'");
        }
    }

    /// <summary>Redraws the head from a generator of its own (the global torch seed is left alone).</summary>
    public void ResetHead(long seed)
    {
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        using var drawn = randn(classifier.weight.shape, generator: generator) * Config.InitializerRange;
        classifier.weight.copy_(drawn);
        classifier.bias!.zero_();
    }
}
