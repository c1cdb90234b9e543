using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EvolverActors.Tensors.Models;

/// <summary>
/// A classifier of a model family: maps a batch to logits [B, classes]. Its parameter and buffer names are
/// the checkpoint names, so a <see cref="WeightSet"/> loads into it by name and exports from it by name.
/// </summary>
public abstract class ClassifierModel : Module<ModelInput, Tensor>
{
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
                linear.WeightName = name.Length == 0 ? "weight" : name + ".weight";
            }
        }
    }

    /// <summary>Routes every observable linear layer's input to <paramref name="observer"/> (null stops it).</summary>
    public void ObserveLinearInputs(LinearInputObserver? observer)
    {
        foreach (var module in modules())
        {
            if (module is ObservedLinear linear)
            {
                linear.Observer = observer;
            }
        }
    }

    /// <summary>Copies a weight set into this model in place (same names and shapes; dtype converted).</summary>
    public void LoadWeights(WeightSet weights)
    {
        var state = state_dict();
        using var noGrad = no_grad();
        foreach (var (name, target) in state)
        {
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
            target.copy_(source);
        }
        var extra = weights.Names.FirstOrDefault(n => !state.ContainsKey(n));
        if (extra is not null)
        {
            throw new PopulationMismatchException($"tensor '{extra}' is not a parameter of model family '{Family}'");
        }
    }

    /// <summary>A copy of this model's parameters and buffers as a weight set (the caller owns it).</summary>
    public WeightSet ExportWeights()
    {
        using var noGrad = no_grad();
        return WeightSet.Adopt(state_dict().Select(kv => (kv.Key, kv.Value.detach().clone())));
    }
}
