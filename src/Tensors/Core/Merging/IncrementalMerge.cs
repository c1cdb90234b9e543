using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Merging;

/// <summary>
/// A merged model kept up to date as population slots are replaced (docs/architecture.md §1, merged mode).
/// For a method that is linear in each member, X(population with slot i := child) =
/// X(population) + contribution_i(child) − contribution_i(x_i), an O(P) update instead of an O(N·P)
/// rebuild. The statistics that weigh a contribution (Fisher, Gram) belong to the slot: they are the
/// original model's, fixed at construction, never the new weights'.
/// The instance owns <see cref="Merged"/> and its accumulators; the members and the statistics in
/// the <see cref="MergeInputs"/> stay the caller's and must outlive it (they are not copied).
/// Not thread-safe: one owner updates it.
/// </summary>
public abstract class IncrementalMerge : IDisposable
{
    private readonly bool[] _passThrough;
    private readonly WeightSet _twins;
    private bool _disposed;

    private protected IncrementalMerge(string method, WeightSet merged, int members, MergeInputs inputs)
    {
        Method = method;
        MergedSet = merged;
        Members = members;
        Inputs = inputs;
        _passThrough = [.. merged.Entries().Select(e => !MergeSupport.IsMerged(e.Name, e.Tensor, inputs))];
        // A float32 twin for every merged tensor stored in f16/bf16, so repeated updates do not
        // accumulate half-precision rounding; float32 tensors are their own accumulators.
        _twins = WeightSet.Adopt([.. merged.Entries()
            .Where((e, i) => !_passThrough[i] && e.Tensor.dtype != ScalarType.Float32)
            .Select(e => (e.Name, e.Tensor.to(ScalarType.Float32, e.Tensor.device, copy: true)))]);
    }

    /// <summary>The methods that have an incremental update.</summary>
    public static IReadOnlyList<string> SupportedMethods { get; } =
        [AverageMerge.MethodName, FisherMerge.MethodName, RegMeanMerge.MethodName, LinearMerge.MethodName];

    /// <summary>
    /// Merges <paramref name="members"/> once with <paramref name="method"/> and prepares the updates.
    /// <paramref name="parameters"/> are the method's key=values, as for <see cref="MergeRegistry.Get(string, IReadOnlyDictionary{string, string}?)"/>.
    /// </summary>
    public static IncrementalMerge Create(
        string method, IReadOnlyList<WeightSet> members, MergeInputs inputs, IReadOnlyDictionary<string, string>? parameters = null)
    {
        RequireSupported(method);
        return method.ToLowerInvariant() switch
        {
            AverageMerge.MethodName => new IncrementalAverage(members, inputs, AverageOptions.Parse(parameters)),
            FisherMerge.MethodName => new IncrementalFisher(members, inputs, FisherOptions.Parse(parameters)),
            RegMeanMerge.MethodName => new IncrementalRegMean(members, inputs, RegMeanOptions.Parse(parameters)),
            LinearMerge.MethodName => new IncrementalLinear(members, inputs, LinearOptions.Parse(parameters)),
            _ => throw new EvolverException(
                $"merge method '{method}' has no incremental update (it is not linear in each member); methods with one: {string.Join(", ", SupportedMethods)}"),
        };
    }

    /// <summary>
    /// Fails with a clear <see cref="EvolverException"/> unless <paramref name="method"/> is a known merge method
    /// with an incremental update (<see cref="SupportedMethods"/>); for checking a configuration at start-up.
    /// </summary>
    public static void RequireSupported(string method)
    {
        MergeRegistry.RequireKnown(method);
        if (!SupportedMethods.Contains(method, StringComparer.OrdinalIgnoreCase))
        {
            throw new EvolverException(
                $"merge method '{method}' has no incremental update (it is not linear in each member); methods with one: {string.Join(", ", SupportedMethods)}");
        }
    }

    public string Method { get; }

    /// <summary>The number of population slots N (it changes with <see cref="TryAdd"/> and <see cref="TryRemove"/>).</summary>
    public int Members { get; private set; }

    /// <summary>The current merged model, updated in place by <see cref="Replace"/>; owned by this instance.</summary>
    public WeightSet Merged => _disposed ? throw new ObjectDisposedException(GetType().Name) : MergedSet;

    private protected WeightSet MergedSet { get; }
    private protected MergeInputs Inputs { get; }

    /// <summary>
    /// Updates <see cref="Merged"/> in place for slot <paramref name="slot"/> changing from
    /// <paramref name="oldWeights"/> (its current weights, as last merged) to <paramref name="newWeights"/>.
    /// Excluded and integer tensors follow slot 0, as a full merge takes them from models[0].
    /// </summary>
    public void Replace(int slot, WeightSet oldWeights, WeightSet newWeights)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckSlot(slot, oldWeights, newWeights);
        for (var i = 0; i < MergedSet.Count; i++)
        {
            using var scope = NewDisposeScope();
            using var ng = no_grad();
            if (_passThrough[i])
            {
                if (slot == 0)
                {
                    MergedSet[i].copy_(newWeights[i]);
                }
                continue;
            }
            // An unchanged tensor keeps its merge exactly: add-and-subtract would round it (regmean's large maps by more
            // than an ulp), and frozen layers must stay the same for an evaluator's shared-layer cache.
            if (MergeSupport.SameValues(oldWeights[i], newWeights[i]))
            {
                continue;
            }
            ReplaceTensor(slot, i, oldWeights[i], newWeights[i]);
        }
    }

    /// <summary>
    /// A member joins after the others, in place and O(P): <see cref="Merged"/> becomes X of the N + 1 members.
    /// <paramref name="statistics"/> is its Fisher set (fisher; null for the others). False, with nothing changed, when
    /// the method cannot gain a member in place (regmean: S⁻¹ changes with every member) or the statistics do not cover
    /// the tensors the others' do; the caller then merges the new population in full.
    /// </summary>
    public bool TryAdd(WeightSet weights, WeightSet? statistics)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WeightLayout.RequireSame(MergedSet.Layout, "the merged model", weights.Layout, "the new member's weights");
        if (!CanAdd(statistics))
        {
            return false;
        }
        var before = Members;
        Members = before + 1;
        MemberAdded(statistics);
        ForEachMergedTensor(i => AddTensor(i, weights[i], before));
        return true;
    }

    /// <summary>
    /// The member at position <paramref name="index"/> (its weights <paramref name="weights"/>, as last merged) leaves, in
    /// place and O(P). False, with nothing changed, when the method cannot lose a member in place, for position 0
    /// (excluded and integer tensors follow the first member, which changes), or when one member would be left.
    /// </summary>
    public bool TryRemove(int index, WeightSet weights)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (index < 0 || index >= Members)
        {
            throw new EvolverException($"member {index} is out of range: the population has {Members} members");
        }
        WeightLayout.RequireSame(MergedSet.Layout, "the merged model", weights.Layout, $"the weights of member {index}");
        if (index == 0 || Members < 2 || !CanRemove)
        {
            return false;
        }
        var before = Members;
        ForEachMergedTensor(i => RemoveTensor(index, i, weights[i], before));
        Members = before - 1;
        MemberRemoved(index);
        return true;
    }

    /// <summary>Whether <see cref="TryAdd"/> would add a member with <paramref name="statistics"/> in place.</summary>
    public bool CanAddMember(WeightSet? statistics) => CanAdd(statistics);

    /// <summary>Whether <see cref="TryRemove"/> would take a member other than the first out in place.</summary>
    public bool CanRemoveMember => CanRemove && Members > 1;

    /// <summary>Runs <paramref name="update"/> for every merged (floating, not excluded) tensor, each in a dispose scope.</summary>
    private void ForEachMergedTensor(Action<int> update)
    {
        for (var i = 0; i < MergedSet.Count; i++)
        {
            if (_passThrough[i])
            {
                continue;
            }
            using var scope = NewDisposeScope();
            using var ng = no_grad();
            update(i);
        }
    }

    /// <summary>Whether a member with <paramref name="statistics"/> can join in place.</summary>
    private protected virtual bool CanAdd(WeightSet? statistics) => false;

    /// <summary>Whether a member can leave in place.</summary>
    private protected virtual bool CanRemove => false;

    /// <summary>Records the new last member's statistics (before its tensors are added).</summary>
    private protected virtual void MemberAdded(WeightSet? statistics)
    {
    }

    /// <summary>Forgets the statistics of the member that left (after its tensors were taken out).</summary>
    private protected virtual void MemberRemoved(int index)
    {
    }

    /// <summary>Adds the new member's tensor <paramref name="index"/>; <see cref="Members"/> counts it already.</summary>
    private protected virtual void AddTensor(int index, Tensor tensor, int membersBefore) => throw new NotSupportedException();

    /// <summary>Takes member <paramref name="member"/>'s tensor <paramref name="index"/> out; <see cref="Members"/> still counts it.</summary>
    private protected virtual void RemoveTensor(int member, int index, Tensor tensor, int membersBefore) => throw new NotSupportedException();

    /// <summary>The average with one more member: acc·N/(N+1) + x/(N+1).</summary>
    private protected void AverageAdd(int index, Tensor tensor, int membersBefore)
    {
        var accumulator = Accumulator(index);
        accumulator.mul_((double)membersBefore / (membersBefore + 1)).add_(MergeSupport.Float32(tensor), 1.0 / (membersBefore + 1));
        Publish(index);
    }

    /// <summary>The average with one member fewer: acc·N/(N−1) − x/(N−1).</summary>
    private protected void AverageRemove(int index, Tensor tensor, int membersBefore)
    {
        var accumulator = Accumulator(index);
        accumulator.mul_((double)membersBefore / (membersBefore - 1)).add_(MergeSupport.Float32(tensor), -1.0 / (membersBefore - 1));
        Publish(index);
    }

    /// <summary>
    /// Writes X(population with slot <paramref name="slot"/> := <paramref name="newWeights"/>) into
    /// <paramref name="destination"/> (a set with the layout of <see cref="Merged"/>, e.g. from
    /// <c>Merged.EmptyLike()</c>) without changing this instance: <see cref="Merged"/>, the accumulators and the
    /// statistics are only read. O(P), the same arithmetic as <see cref="Replace"/>, and no full-size allocation
    /// for float32 tensors (f16/bf16 ones go through one float32 temporary per tensor).
    /// <paramref name="oldWeights"/> are the slot's current weights, as last merged.
    /// Excluded and integer tensors follow slot 0: from <paramref name="newWeights"/> when the slot is 0, else from Merged.
    /// </summary>
    public void Preview(int slot, WeightSet oldWeights, WeightSet newWeights, WeightSet destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckSlot(slot, oldWeights, newWeights);
        WeightLayout.RequireSame(MergedSet.Layout, "the merged model", destination.Layout, "the preview destination");
        if (ReferenceEquals(destination, MergedSet) || ReferenceEquals(destination, _twins))
        {
            throw new EvolverException("a preview cannot be written into the merged model itself; use Replace to change it");
        }
        for (var i = 0; i < MergedSet.Count; i++)
        {
            using var scope = NewDisposeScope();
            using var ng = no_grad();
            if (_passThrough[i])
            {
                destination[i].copy_(slot == 0 ? newWeights[i] : MergedSet[i]);
                continue;
            }
            if (MergeSupport.SameValues(oldWeights[i], newWeights[i]))
            {
                destination[i].copy_(MergedSet[i]); // as in Replace: the merge of an unchanged tensor is what it was
                continue;
            }
            PreviewTensor(slot, i, oldWeights[i], newWeights[i], destination[i]);
        }
    }

    private void CheckSlot(int slot, WeightSet oldWeights, WeightSet newWeights)
    {
        if (slot < 0 || slot >= Members)
        {
            throw new EvolverException($"slot {slot} is out of range: the population has {Members} slots");
        }
        var layout = MergedSet.Layout;
        WeightLayout.RequireSame(layout, "the merged model", oldWeights.Layout, $"the old weights of slot {slot}");
        WeightLayout.RequireSame(layout, "the merged model", newWeights.Layout, $"the new weights of slot {slot}");
    }

    /// <summary>Updates merged tensor <paramref name="index"/> (floating, not excluded) for one slot.</summary>
    private protected abstract void ReplaceTensor(int slot, int index, Tensor oldTensor, Tensor newTensor);

    /// <summary>
    /// Writes merged tensor <paramref name="index"/> (floating, not excluded) as it would be after replacing one slot
    /// into <paramref name="destination"/>, reading the state only.
    /// </summary>
    private protected abstract void PreviewTensor(int slot, int index, Tensor oldTensor, Tensor newTensor, Tensor destination);

    /// <summary>Releases the accumulators of a subclass.</summary>
    private protected virtual void DisposeState()
    {
    }

    /// <summary>The float32 accumulator of merged tensor <paramref name="index"/>: its twin, or the tensor itself.</summary>
    private protected Tensor Accumulator(int index)
    {
        var name = MergedSet.Names[index];
        return _twins.Contains(name) ? _twins[name] : MergedSet[index];
    }

    /// <summary>After updating an accumulator, copies a twin into its merged tensor (a no-op for float32 tensors).</summary>
    private protected void Publish(int index)
    {
        var name = MergedSet.Names[index];
        if (_twins.Contains(name))
        {
            MergedSet[index].copy_(_twins[name]);
        }
    }

    /// <summary>The average's update: merged += (new − old)/N, in place (<see cref="WeightedStep"/> with share 1/N).</summary>
    private protected void AverageStep(int index, Tensor oldTensor, Tensor newTensor) => WeightedStep(index, oldTensor, newTensor, 1.0 / Members);

    /// <summary>The average's preview: destination = accumulator + (new − old)/N, as <see cref="AverageStep"/> computes it.</summary>
    private protected void AveragePreview(int index, Tensor oldTensor, Tensor newTensor, Tensor destination) =>
        WeightedPreview(index, oldTensor, newTensor, destination, 1.0 / Members);

    /// <summary>A weighted average's update: merged += share·(new − old), in place: one fused pass on CPU float32,
    /// else two add_ with alpha ±share.</summary>
    private protected void WeightedStep(int index, Tensor oldTensor, Tensor newTensor, double share)
    {
        var accumulator = Accumulator(index);
        if (!Native.LinearCombinationKernel.TryRun(accumulator, [accumulator, newTensor, oldTensor], [1f, (float)share, (float)-share]))
        {
            accumulator.add_(newTensor, share).add_(oldTensor, -share);
        }
        Publish(index);
    }

    /// <summary>A weighted average's preview: destination = accumulator + share·(new − old), as <see cref="WeightedStep"/> computes it.</summary>
    private protected void WeightedPreview(int index, Tensor oldTensor, Tensor newTensor, Tensor destination, double share)
    {
        var accumulator = Accumulator(index);
        InFloat32(destination, result =>
        {
            if (!Native.LinearCombinationKernel.TryRun(result, [accumulator, newTensor, oldTensor], [1f, (float)share, (float)-share]))
            {
                result.copy_(accumulator).add_(newTensor, share).add_(oldTensor, -share);
            }
        });
    }

    /// <summary>
    /// Runs <paramref name="compute"/> on a float32 tensor shaped like <paramref name="destination"/>: the destination
    /// itself when it is float32, else a temporary (of the current dispose scope) that is then copied into it.
    /// </summary>
    private protected static void InFloat32(Tensor destination, Action<Tensor> compute)
    {
        if (destination.dtype == ScalarType.Float32)
        {
            compute(destination);
            return;
        }
        var work = empty(destination.shape, ScalarType.Float32, destination.device);
        compute(work);
        destination.copy_(work);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (disposing)
        {
            DisposeState();
            _twins.Dispose();
            MergedSet.Dispose();
        }
    }
}
