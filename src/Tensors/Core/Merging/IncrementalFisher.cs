using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Incremental <c>fisher</c>. Keeps the numerator Σ_k (F_k + ε)·x_k and the fixed denominator
/// Σ_k (F_k + ε) in float32; replacing slot i adds (F_i + ε)⊙(new − old) to the numerator with
/// addcmul_ (and add_ for the ε part) and sets merged = numerator / denominator, in place. F_i is the
/// slot's Fisher from construction (the caller's tensors, referenced, not copied). Tensors without a
/// Fisher follow the average's update.
/// </summary>
public sealed class IncrementalFisher : IncrementalMerge
{
    private readonly double _epsilon;
    private readonly WeightSet _numerators;
    private readonly WeightSet _denominators;

    /// <summary>[slot][tensor index]: the slot's Fisher tensor, or null for tensors merged by average.</summary>
    private readonly List<Tensor?[]> _fishers;

    internal IncrementalFisher(IReadOnlyList<WeightSet> members, MergeInputs inputs, FisherOptions options)
        : base(FisherMerge.MethodName, new FisherMerge(options).Merge(members, inputs), members.Count, inputs)
    {
        _epsilon = options.Epsilon;
        var merged = MergedSet;
        _fishers = [.. Enumerable.Range(0, members.Count).Select(_ => new Tensor?[merged.Count])];
        _weighted = new bool[merged.Count];
        var numerators = new List<(string, Tensor)>();
        var denominators = new List<(string, Tensor)>();
        try
        {
            for (var i = 0; i < merged.Count; i++)
            {
                var name = merged.Names[i];
                if (!MergeSupport.IsMerged(name, merged[i], inputs) || FisherMerge.FishersOf(TensorGroup.Of(members, inputs, name)) is not { } fishers)
                {
                    continue;
                }
                using var scope = NewDisposeScope();
                using var ng = no_grad();
                var (numerator, denominator) = FisherMerge.Sums([.. members.Select(m => m[name])], fishers, _epsilon);
                numerators.Add((name, numerator.MoveToOuterDisposeScope()));
                denominators.Add((name, denominator.MoveToOuterDisposeScope()));
                for (var k = 0; k < members.Count; k++)
                {
                    _fishers[k][i] = fishers[k];
                }
                _weighted[i] = true;
            }
        }
        catch
        {
            foreach (var (_, t) in numerators.Concat(denominators))
            {
                t.Dispose();
            }
            Dispose();
            throw;
        }
        _numerators = WeightSet.Adopt(numerators);
        _denominators = WeightSet.Adopt(denominators);
    }

    private protected override void ReplaceTensor(int slot, int index, Tensor oldTensor, Tensor newTensor)
    {
        if (_fishers[slot][index] is not { } fisher)
        {
            AverageStep(index, oldTensor, newTensor);
            return;
        }
        var name = MergedSet.Names[index];
        var numerator = _numerators[name];
        numerator.addcmul_(fisher, newTensor, 1).addcmul_(fisher, oldTensor, -1);
        if (_epsilon > 0)
        {
            numerator.add_(newTensor, _epsilon).add_(oldTensor, -_epsilon);
        }
        var merged = MergedSet[index];
        if (merged.dtype == ScalarType.Float32)
        {
            merged.copy_(numerator).div_(_denominators[name]);
        }
        else
        {
            merged.copy_(numerator.div(_denominators[name]));
        }
    }

    private protected override void PreviewTensor(int slot, int index, Tensor oldTensor, Tensor newTensor, Tensor destination)
    {
        if (_fishers[slot][index] is not { } fisher)
        {
            AveragePreview(index, oldTensor, newTensor, destination);
            return;
        }
        var name = MergedSet.Names[index];
        var numerator = _numerators[name];
        var denominator = _denominators[name];
        // The same operations, in the same order, as ReplaceTensor, on a copy of the numerator.
        InFloat32(destination, result =>
        {
            result.copy_(numerator).addcmul_(fisher, newTensor, 1).addcmul_(fisher, oldTensor, -1);
            if (_epsilon > 0)
            {
                result.add_(newTensor, _epsilon).add_(oldTensor, -_epsilon);
            }
            result.div_(denominator);
        });
    }

    /// <summary>Per tensor: merged by Fisher weights (true) or averaged.</summary>
    private readonly bool[] _weighted;

    /// <summary>A new member needs a Fisher tensor of the right shape for every Fisher-weighted tensor.</summary>
    private protected override bool CanAdd(WeightSet? statistics) =>
        statistics is not null && Enumerable.Range(0, MergedSet.Count).Where(i => _weighted[i]).All(i =>
            statistics.Contains(MergedSet.Names[i]) && statistics[MergedSet.Names[i]].shape.SequenceEqual(MergedSet[i].shape));

    private protected override bool CanRemove => true;

    private protected override void MemberAdded(WeightSet? statistics)
    {
        var row = new Tensor?[MergedSet.Count];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = _weighted[i] ? statistics![MergedSet.Names[i]] : null;
        }
        _fishers.Add(row);
    }

    private protected override void MemberRemoved(int index) => _fishers.RemoveAt(index);

    private protected override void AddTensor(int index, Tensor tensor, int membersBefore)
    {
        if (!_weighted[index])
        {
            AverageAdd(index, tensor, membersBefore);
            return;
        }
        ChangeTerm(index, _fishers[^1][index]!, tensor, +1);
    }

    private protected override void RemoveTensor(int member, int index, Tensor tensor, int membersBefore)
    {
        if (!_weighted[index])
        {
            AverageRemove(index, tensor, membersBefore);
            return;
        }
        ChangeTerm(index, _fishers[member][index]!, tensor, -1);
    }

    /// <summary>Adds (sign +1) or takes out (−1) one member's term of both sums, (F + ε)·x and F + ε, then merged = numerator / denominator.</summary>
    private void ChangeTerm(int index, Tensor fisher, Tensor tensor, int sign)
    {
        var name = MergedSet.Names[index];
        var weight = MergeSupport.Float32(fisher).add(_epsilon);
        var numerator = _numerators[name];
        var denominator = _denominators[name];
        numerator.addcmul_(weight, MergeSupport.Float32(tensor), sign);
        denominator.add_(weight, sign);
        var merged = MergedSet[index];
        if (merged.dtype == ScalarType.Float32)
        {
            merged.copy_(numerator).div_(denominator);
        }
        else
        {
            merged.copy_(numerator.div(denominator));
        }
    }

    private protected override void DisposeState()
    {
        _numerators?.Dispose();
        _denominators?.Dispose();
    }
}
