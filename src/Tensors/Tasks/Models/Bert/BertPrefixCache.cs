using System.Globalization;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Models.Bert;

/// <summary>
/// The hidden states of a resident evaluator's batches after the bottom encoder layers that every candidate shares
/// (docs/architecture.md §5, "Shared bottom layers"). A population fine-tuned with its bottom layers frozen holds the
/// same tensors there in every member, merge and offspring, so those layers need to run once per batch, not once per
/// candidate. Units are the embeddings (0) and encoder layer i (i + 1). A load compares the incoming units with the ones
/// held, bottom up: the leading units that are unchanged within float32 rounding (<see cref="RelativeTolerance"/>; merge
/// arithmetic rounds frozen tensors by a few ulps) are kept as they are, so cached states always belong to the weights
/// the model holds; a change below the cached depth drops the cache. Pure bookkeeping, no module: the owning
/// <see cref="BertClassifier"/> runs the layers.
/// </summary>
internal sealed class BertPrefixCache : IDisposable
{
    /// <summary>Incoming tensors within this relative distance of the held ones (plus <see cref="AbsoluteTolerance"/>) count as unchanged.</summary>
    public const double RelativeTolerance = 1e-6;
    public const double AbsoluteTolerance = 1e-9;

    /// <summary>At most this many bytes of hidden states are kept; batches beyond it run every layer.</summary>
    public const long MaxBytes = 1L << 30;

    private const string EmbeddingsPrefix = "embeddings.";
    private const string LayerPrefix = "encoder.layer.";

    private readonly Dictionary<int, Tensor> _hidden = [];
    private readonly int _layers;
    private long _bytes;
    private int? _planned;

    public BertPrefixCache(int layers) => _layers = layers;

    /// <summary>Set on the first keyed forward in eval mode: from then on loads are compared.</summary>
    public bool Active { get; private set; }

    /// <summary>Encoder layers whose output is (or will be) cached; null or 0 when nothing is cached.</summary>
    public int? CachedLayers => _planned is >= 1 ? _planned : null;

    /// <summary>Batches whose hidden states are held.</summary>
    public int Count => _hidden.Count;

    public void Activate() => Active = true;

    /// <summary>
    /// The names (the model's own) of tensors a load leaves as they are: every tensor of the leading units that are
    /// unchanged. Plans the cache depth from them and drops cached states that a changed unit invalidates.
    /// </summary>
    public IReadOnlySet<string> Load(IEnumerable<(string Name, Tensor Held, Tensor Incoming)> tensors)
    {
        var kept = new HashSet<string>(StringComparer.Ordinal);
        if (!Active)
        {
            return kept;
        }
        var units = tensors
            .Select(t => (Unit: UnitOf(t.Name), t.Name, t.Held, t.Incoming))
            .Where(t => t.Unit is not null)
            .GroupBy(t => t.Unit!.Value)
            .OrderBy(g => g.Key)
            .ToList();
        var unchanged = 0;
        foreach (var unit in units)
        {
            if (unit.Key != unchanged || !unit.All(t => Unchanged(t.Held, t.Incoming)))
            {
                break;
            }
            unchanged++;
            kept.UnionWith(unit.Select(t => t.Name));
        }
        var layers = unchanged - 1;
        if (_hidden.Count > 0 && layers < _planned)
        {
            Clear();
        }
        if (_hidden.Count == 0)
        {
            _planned = layers;
        }
        return kept;
    }

    /// <summary>The cached hidden state of batch <paramref name="key"/>, or null.</summary>
    public Tensor? Get(int key) => _hidden.GetValueOrDefault(key);

    /// <summary>Keeps a copy of <paramref name="hidden"/> (after <see cref="CachedLayers"/> layers) while under <see cref="MaxBytes"/>.</summary>
    public void Put(int key, Tensor hidden)
    {
        var bytes = hidden.NumberOfElements * hidden.ElementSize;
        if (_bytes + bytes > MaxBytes || _hidden.ContainsKey(key))
        {
            return;
        }
        var copy = hidden.detach().clone();
        copy.DetachFromDisposeScope();
        _hidden[key] = copy;
        _bytes += bytes;
    }

    /// <summary>Drops every cached state (the weights below the cached depth changed, or training began).</summary>
    public void Clear()
    {
        foreach (var tensor in _hidden.Values)
        {
            tensor.Dispose();
        }
        _hidden.Clear();
        _bytes = 0;
    }

    public void Dispose() => Clear();

    /// <summary>0 for the embeddings, i + 1 for encoder layer i, null for the pooler and the head.</summary>
    private int? UnitOf(string name)
    {
        if (name.StartsWith(EmbeddingsPrefix, StringComparison.Ordinal))
        {
            return 0;
        }
        if (!name.StartsWith(LayerPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = name.AsSpan(LayerPrefix.Length);
        var dot = rest.IndexOf('.');
        return dot > 0 && int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var layer) && layer < _layers
            ? layer + 1
            : null;
    }

    private static bool Unchanged(Tensor held, Tensor incoming)
    {
        using var scope = NewDisposeScope();
        var other = incoming.dtype == held.dtype && incoming.device == held.device ? incoming : incoming.to(held.dtype, held.device);
        return Native.CloseKernel.AllClose(held, other, (float)RelativeTolerance, (float)AbsoluteTolerance)
            ?? held.allclose(other, rtol: RelativeTolerance, atol: AbsoluteTolerance);
    }
}
