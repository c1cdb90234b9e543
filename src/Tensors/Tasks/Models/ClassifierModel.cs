using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EvolverActors.Tensors.Models;

/// <summary>
/// A classifier of a model family: maps a batch to logits [B, classes]. Its parameter and buffer names are the
/// checkpoint names, so a <see cref="WeightSet"/> loads into it by name and exports from it by name; a family that
/// also reads another naming (Hugging Face's <c>bert.*</c>) maps names with <see cref="UseCheckpointNames"/>, and then
/// loads, exports and names its statistics in the checkpoint's names. A weight set never changes its names.
/// </summary>
public abstract class ClassifierModel : Module<ModelInput, Tensor>
{
    private Dictionary<string, string>? _checkpointNames;
    private HashSet<string> _ignored = new(StringComparer.Ordinal);

    protected ClassifierModel(string name) : base(name)
    {
    }

    /// <summary>The stable family name ("cnn", "bert-classifier").</summary>
    public abstract string Family { get; }

    public abstract int ClassCount { get; }

    /// <summary>Call at the end of the subclass constructor, after RegisterComponents: names the observable linears.</summary>
    protected void NameObservedLinears()
    {
        foreach (var (name, module) in named_modules())
        {
            if (module is ObservedLinear linear)
            {
                linear.WeightName = CheckpointName(name.Length == 0 ? "weight" : name + ".weight");
            }
        }
    }

    /// <summary>
    /// Loads and exports under a checkpoint's names: <paramref name="toCheckpoint"/> maps each parameter or buffer name
    /// of this model to the checkpoint's; <paramref name="ignored"/> are checkpoint tensors the model has no use for
    /// (e.g. a <c>position_ids</c> buffer), which loading skips.
    /// </summary>
    protected void UseCheckpointNames(Func<string, string> toCheckpoint, IEnumerable<string> ignored)
    {
        _checkpointNames = state_dict().Keys.ToDictionary(k => k, toCheckpoint, StringComparer.Ordinal);
        _ignored = new HashSet<string>(ignored, StringComparer.Ordinal);
        NameObservedLinears();
    }

    /// <summary>The checkpoint's name of this model's parameter or buffer <paramref name="name"/>.</summary>
    public string CheckpointName(string name) => _checkpointNames is not null && _checkpointNames.TryGetValue(name, out var mapped) ? mapped : name;

    /// <summary>Whether linear inputs are being observed: every layer must then run (no cached activations).</summary>
    protected bool Observing { get; private set; }

    /// <summary>Routes every observable linear layer's input to <paramref name="observer"/> (null stops it).</summary>
    public void ObserveLinearInputs(LinearInputObserver? observer)
    {
        Observing = observer is not null;
        foreach (var module in modules())
        {
            if (module is ObservedLinear linear)
            {
                linear.Observer = observer;
            }
        }
    }

    /// <summary>
    /// Copies a weight set into this model in place (same names and shapes; dtype converted). Every name and shape is
    /// checked before anything is copied; tensors that <see cref="KeptOnLoad"/> names are left as they are.
    /// </summary>
    public void LoadWeights(WeightSet weights)
    {
        var state = state_dict();
        var incoming = new List<LoadedTensor>(state.Count);
        foreach (var (own, target) in state)
        {
            var name = CheckpointName(own);
            if (!weights.Contains(name))
            {
                throw new PopulationMismatchException($"weights for model family '{Family}' lack tensor '{name}'");
            }
            var source = weights[name];
            if (!source.shape.SequenceEqual(target.shape))
            {
                throw new PopulationMismatchException(
                    $"tensor '{name}' has shape [{string.Join(", ", source.shape)}] but model family '{Family}' needs [{string.Join(", ", target.shape)}]");
            }
            incoming.Add(new LoadedTensor(own, target, source));
        }
        var expected = new HashSet<string>(incoming.Select(t => CheckpointName(t.Name)), StringComparer.Ordinal);
        var extra = weights.Names.FirstOrDefault(n => !expected.Contains(n) && !_ignored.Contains(n));
        if (extra is not null)
        {
            throw new PopulationMismatchException($"tensor '{extra}' is not a parameter of model family '{Family}'");
        }
        using var noGrad = no_grad();
        var kept = KeptOnLoad(incoming);
        foreach (var tensor in incoming.Where(t => !kept.Contains(t.Name)))
        {
            tensor.Target.copy_(tensor.Source);
        }
    }

    /// <summary>One tensor of a load: this model's name for it, its parameter or buffer, and the incoming tensor.</summary>
    protected readonly record struct LoadedTensor(string Name, Tensor Target, Tensor Source);

    /// <summary>
    /// Called by <see cref="LoadWeights"/> under no-grad once every tensor has been checked: the names (this model's) of
    /// tensors to leave as they are. A model that caches activations (BERT) keeps tensors that are unchanged within
    /// rounding, so its cache stays exact for the weights it holds. Nothing by default.
    /// </summary>
    protected virtual IReadOnlySet<string> KeptOnLoad(IReadOnlyList<LoadedTensor> tensors) => EmptyNames;

    private static readonly IReadOnlySet<string> EmptyNames = new HashSet<string>();

    /// <summary>A copy of this model's parameters and buffers as a weight set in the checkpoint's names (the caller owns it).</summary>
    public WeightSet ExportWeights()
    {
        using var noGrad = no_grad();
        return WeightSet.Adopt(state_dict().Select(kv => (CheckpointName(kv.Key), kv.Value.detach().clone())));
    }
}
