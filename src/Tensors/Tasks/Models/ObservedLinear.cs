using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace EvolverActors.Tensors.Models;

/// <summary>Receives the input of a linear layer, by the layer's weight name (RegMean's Gram matrices).</summary>
public delegate void LinearInputObserver(string weightName, Tensor input);

/// <summary>
/// A linear layer that can report its inputs. Registered like <c>nn.Linear</c> (parameters <c>weight</c>
/// [out, in] and <c>bias</c>), so checkpoint names are the Hugging Face ones.
/// </summary>
public sealed class ObservedLinear : Module<Tensor, Tensor>
{
    public ObservedLinear(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(ObservedLinear))
    {
        // nn.Linear's initialisation: Kaiming-uniform weight, bias uniform in ±1/sqrt(in).
        weight = new Parameter(empty(outFeatures, inFeatures));
        init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (hasBias)
        {
            var bound = 1 / Math.Sqrt(inFeatures);
            bias = new Parameter(empty(outFeatures));
            init.uniform_(bias, -bound, bound);
        }
        RegisterComponents();
    }

#pragma warning disable IDE1006, CA1051 // parameter names must be "weight" and "bias", as in Hugging Face checkpoints
    public Parameter weight;
    public Parameter? bias;
#pragma warning restore IDE1006, CA1051

    /// <summary>The full name of this layer's weight in its model ("encoder.layer.0.attention.self.query.weight").</summary>
    public string WeightName { get; internal set; } = "weight";

    /// <summary>Set by the owning model while statistics are collected; null otherwise.</summary>
    public LinearInputObserver? Observer { get; set; }

    public override Tensor forward(Tensor input)
    {
        Observer?.Invoke(WeightName, input);
        return functional.linear(input, weight, bias);
    }
}
