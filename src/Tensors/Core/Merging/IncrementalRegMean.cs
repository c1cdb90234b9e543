using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// Incremental <c>regmean</c>. Since W = Σ_k W_k·G̃_k·S⁻¹ with S = Σ_k G̃_k fixed, slot k contributes
/// W_k·M_k with M_k = G̃_k·S⁻¹ [in, in], computed once per slot and linear weight at construction
/// (torch.linalg.solve, left = false: M_k·S = G̃_k). Replacing slot i is then
/// W += new·M_i − old·M_i, two in-place addmm_ per linear weight: no solve per update.
/// Memory: one [in, in] matrix per slot and linear weight, as many as the Grams themselves.
/// Tensors without a Gram follow the average's update.
/// </summary>
public sealed class IncrementalRegMean : IncrementalMerge
{
    /// <summary>Per slot: M_k for each linear weight with Grams, named like the weight.</summary>
    private readonly WeightSet[] _maps;

    internal IncrementalRegMean(IReadOnlyList<WeightSet> members, MergeInputs inputs, RegMeanOptions options)
        : base(RegMeanMerge.MethodName, new RegMeanMerge(options).Merge(members, inputs), members.Count, inputs)
    {
        var merged = MergedSet;
        var maps = Enumerable.Range(0, members.Count).Select(_ => new List<(string, Tensor)>()).ToArray();
        try
        {
            for (var i = 0; i < merged.Count; i++)
            {
                var name = merged.Names[i];
                if (!MergeSupport.IsMerged(name, merged[i], inputs) || RegMeanMerge.GramsOf(TensorGroup.Of(members, inputs, name)) is not { } grams)
                {
                    continue;
                }
                using var scope = NewDisposeScope();
                using var ng = no_grad();
                var gramSum = RegMeanMerge.GramSum(grams, options.Alpha, merged[i].device);
                var ridge = RegMeanMerge.Ridge(grams);
                for (var k = 0; k < members.Count; k++)
                {
                    var map = RegMeanMerge.SolveRight(name, gramSum, RegMeanMerge.Regularised(grams[k], options.Alpha, ridge));
                    maps[k].Add((name, map.MoveToOuterDisposeScope()));
                }
            }
        }
        catch
        {
            foreach (var (_, t) in maps.SelectMany(m => m))
            {
                t.Dispose();
            }
            Dispose();
            throw;
        }
        _maps = [.. maps.Select(WeightSet.Adopt)];
    }

    private protected override void ReplaceTensor(int slot, int index, Tensor oldTensor, Tensor newTensor)
    {
        var name = MergedSet.Names[index];
        var maps = _maps[slot];
        if (!maps.Contains(name))
        {
            AverageStep(index, oldTensor, newTensor);
            return;
        }
        var map = maps[name];
        Accumulator(index)
            .addmm_(MergeSupport.Float32(newTensor), map, 1, 1)
            .addmm_(MergeSupport.Float32(oldTensor), map, 1, -1);
        Publish(index);
    }

    private protected override void PreviewTensor(int slot, int index, Tensor oldTensor, Tensor newTensor, Tensor destination)
    {
        var name = MergedSet.Names[index];
        var maps = _maps[slot];
        if (!maps.Contains(name))
        {
            AveragePreview(index, oldTensor, newTensor, destination);
            return;
        }
        var map = maps[name];
        var accumulator = Accumulator(index);
        InFloat32(destination, result => result
            .copy_(accumulator)
            .addmm_(MergeSupport.Float32(newTensor), map, 1, 1)
            .addmm_(MergeSupport.Float32(oldTensor), map, 1, -1));
    }

    private protected override void DisposeState()
    {
        foreach (var set in _maps ?? [])
        {
            set.Dispose();
        }
    }
}
