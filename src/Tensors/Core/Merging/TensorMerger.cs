using System.Text.RegularExpressions;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// One tensor's inputs to a merge: the same-named tensor of every model, of the base, and the models' statistics for
/// it. The tensors stay the caller's. A merge that holds whole models builds these from weight sets; one that streams
/// checkpoints reads them from disk, one name at a time.
/// </summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Models">The tensor of each model, in model order (same shape and dtype).</param>
public sealed record TensorGroup(string Name, IReadOnlyList<Tensor> Models)
{
    /// <summary>The base model's tensor, when a base is given.</summary>
    public Tensor? Base { get; init; }

    /// <summary>
    /// Per model, its Fisher tensor for <see cref="Name"/>, or null where that model's statistics have none;
    /// the list is null when no Fisher statistics are given.
    /// </summary>
    public IReadOnlyList<Tensor?>? Fisher { get; init; }

    /// <summary>Per model, its Gram matrix for <see cref="Name"/> (or null); the list is null when no Grams are given.</summary>
    public IReadOnlyList<Tensor?>? Grams { get; init; }

    /// <summary>The group of <paramref name="name"/> from whole weight sets.</summary>
    public static TensorGroup Of(IReadOnlyList<WeightSet> models, MergeInputs inputs, string name)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(inputs);
        static Tensor?[]? Stats(IReadOnlyList<WeightSet>? sets, string name) =>
            sets is null ? null : [.. sets.Select(s => s.Contains(name) ? s[name] : null)];
        return new TensorGroup(name, [.. models.Select(m => m[name])])
        {
            Base = inputs.Base?[name],
            Fisher = Stats(inputs.Fisher, name),
            Grams = Stats(inputs.Grams, name),
        };
    }
}

/// <summary>
/// A merge in progress, tensor by tensor, from <see cref="IMergeMethod.Begin"/>. A method's whole-set
/// <see cref="IMergeMethod.Merge"/> runs through the same merger over its models' tensors in order, so a caller
/// that gives the tensors one at a time, in the models' tensor order, gets the same result bit for bit (a method with
/// state across tensors, dare's generator, draws in that order). Not thread-safe.
/// </summary>
public abstract class TensorMerger : IDisposable
{
    /// <summary>
    /// The merged tensor of <paramref name="group"/>, a new tensor in the models' dtype that the caller owns (its
    /// temporaries belong to the caller's dispose scope). Integer tensors and names matching <paramref name="exclude"/>
    /// are copied from the first model.
    /// </summary>
    public Tensor Merge(TensorGroup group, Regex? exclude = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        var first = group.Models[0];
        return DTypes.IsFloating(first.dtype) && exclude?.IsMatch(group.Name) != true
            ? MergeFloat32(group).to(first.dtype)
            : first.clone();
    }

    /// <summary>The float32 result of a merged (floating, not excluded) tensor.</summary>
    protected abstract Tensor MergeFloat32(TensorGroup group);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases a merger's state (e.g. a generator).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>A stateless merger from a function.</summary>
internal sealed class FunctionMerger(Func<TensorGroup, Tensor> mergeFloat32) : TensorMerger
{
    protected override Tensor MergeFloat32(TensorGroup group) => mergeFloat32(group);
}
