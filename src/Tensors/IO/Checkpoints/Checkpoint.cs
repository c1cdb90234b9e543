using System.Text.RegularExpressions;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// Hugging Face checkpoints on disk: a .safetensors file, a directory with model.safetensors, or a
/// sharded directory with model.safetensors.index.json. Weights stream one tensor at a time.
/// </summary>
public static class Checkpoint
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = ShardIndex.FileName;

    /// <summary>Opens a checkpoint for reading headers and single tensors (see <see cref="CheckpointReader.Open"/>).</summary>
    public static CheckpointReader Open(string path) => CheckpointReader.Open(path);

    /// <summary>The names, shapes and dtypes of a checkpoint, read from its headers only.</summary>
    public static WeightLayout ReadLayout(string path)
    {
        using var reader = Open(path);
        return reader.Layout;
    }

    /// <summary>
    /// Loads a checkpoint into a weight set, one tensor at a time: each is read on the CPU, then moved
    /// to <paramref name="device"/> and (floating tensors only) converted to <paramref name="floatType"/>.
    /// <paramref name="only"/> keeps the tensors whose names match.
    /// </summary>
    public static WeightSet Load(string path, Device? device = null, ScalarType? floatType = null, Regex? only = null)
    {
        using var reader = Open(path);
        var loaded = new List<(string, Tensor)>();
        try
        {
            foreach (var spec in reader.Specs.Where(s => only is null || only.IsMatch(s.Name)))
            {
                using var scope = NewDisposeScope();
                var tensor = reader.ReadTensor(spec.Name);
                var dtype = floatType is { } f && DTypes.IsFloating(spec.DType) ? f : spec.DType;
                if (dtype != spec.DType || device is not null)
                {
                    tensor = tensor.to(dtype, device ?? CPU);
                }
                // The scope frees the CPU copy when the tensor moved; the result outlives it.
                loaded.Add((spec.Name, tensor.DetachFromDisposeScope()));
            }
        }
        catch
        {
            loaded.ForEach(e => e.Item2.Dispose());
            throw;
        }
        return WeightSet.Adopt(loaded);
    }

    /// <summary>
    /// Loads a checkpoint on the CPU into the weight set <paramref name="buffer"/> gives for its layout (a reused or
    /// huge-page buffer, which must have exactly that layout), tensor by tensor (in parallel) with no intermediate copy. The buffer is
    /// disposed when the load fails.
    /// </summary>
    public static WeightSet LoadInto(string path, Func<WeightLayout, WeightSet> buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        using var reader = Open(path);
        var destination = buffer(reader.Layout);
        try
        {
            if (!WeightBuffers.HasLayout(destination, reader.Layout))
            {
                throw new ArgumentException($"{path}: the buffer does not have the checkpoint's layout", nameof(buffer));
            }
            // Positional reads, one tensor per task: both cores copy from the page cache.
            Parallel.ForEach(destination.Entries().ToList(), entry => reader.ReadInto(entry.Name, entry.Tensor));
            return destination;
        }
        catch
        {
            destination.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Saves weights as transformers does (through <see cref="CheckpointWriter"/>, which also writes checkpoints
    /// tensor by tensor): <c>model.safetensors</c>, or, when the data exceeds
    /// <paramref name="maxShardBytes"/>, shards <c>model-00001-of-0000N.safetensors</c> filled in weight
    /// set order (a tensor larger than the limit gets a shard of its own) plus
    /// <c>model.safetensors.index.json</c>, written last. <paramref name="metadata"/> goes into every
    /// file's <c>__metadata__</c>. Files of the other layout left by an earlier save are removed once
    /// the new checkpoint is complete; a crash part-way leaves the old checkpoint or no index, never a
    /// mix of old and new tensors. Returns the files written, index last.
    /// </summary>
    public static IReadOnlyList<string> Save(
        string dir,
        WeightSet weights,
        IReadOnlyDictionary<string, string>? metadata = null,
        long maxShardBytes = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(weights);
        using var writer = new CheckpointWriter(dir, weights.Layout.Specs, metadata, maxShardBytes);
        foreach (var (name, tensor) in weights.Entries())
        {
            writer.Write(name, tensor);
        }
        return writer.Commit();
    }

    /// <summary>
    /// Checks that all members of a population share tensor names, shapes and dtypes (headers only);
    /// throws <see cref="PopulationMismatchException"/> naming the first mismatch and both files.
    /// </summary>
    public static void RequireSameLayout(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            throw new EvolverException("population is empty: give at least one checkpoint");
        }
        WeightLayout.RequireSame([.. paths.Select(p => (p, ReadLayout(p)))]);
    }

    /// <summary>
    /// Checks that every floating tensor (f32, f16, bf16, f64) of the checkpoint at <paramref name="path"/> (a
    /// .safetensors file, a directory or a sharded index) is finite. Tensors are read one at a time and checked in
    /// slices, so memory stays bounded by the largest tensor whatever the checkpoint's size. Throws an
    /// <see cref="EvolverException"/> "&lt;path&gt;: tensor '&lt;name&gt;' has NaN or infinite values" for the first
    /// tensor (in file order) that is not.
    /// </summary>
    public static void RequireFinite(string path)
    {
        using var reader = Open(path);
        foreach (var spec in reader.Specs.Where(s => DTypes.IsFloating(s.DType)))
        {
            using var scope = NewDisposeScope();
            RequireFinite(path, spec.Name, reader.ReadTensor(spec.Name));
        }
    }

    /// <summary>
    /// The same check on weights already in memory (any device), for a caller that has loaded them anyway;
    /// <paramref name="source"/> names them in the message (their path).
    /// </summary>
    public static void RequireFinite(WeightSet weights, string source)
    {
        ArgumentNullException.ThrowIfNull(weights);
        foreach (var (name, tensor) in weights.Entries().Where(e => DTypes.IsFloating(e.Tensor.dtype)))
        {
            using var scope = NewDisposeScope();
            RequireFinite(source, name, tensor);
        }
    }

    /// <summary>Elements checked per slice: the boolean temporary stays at 16 MB whatever the tensor's size.</summary>
    private const long FiniteCheckSlice = 1L << 24;

    /// <summary>
    /// The check on one tensor (any dtype; integer tensors pass) read from <paramref name="source"/>, for a caller
    /// that streams a checkpoint: "&lt;source&gt;: tensor '&lt;name&gt;' has NaN or infinite values".
    /// </summary>
    public static void RequireFinite(string source, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!DTypes.IsFloating(tensor.dtype))
        {
            return;
        }
        if (Native.FiniteKernel.AllFinite(tensor) is { } finiteBits)
        {
            if (!finiteBits)
            {
                throw new EvolverException($"{source}: tensor '{name}' has NaN or infinite values");
            }
            return;
        }
        using var noGrad = no_grad();
        using var flat = tensor.reshape(-1);
        for (long start = 0; start < flat.shape[0]; start += FiniteCheckSlice)
        {
            using var slice = flat.narrow(0, start, Math.Min(FiniteCheckSlice, flat.shape[0] - start));
            using var finite = slice.isfinite();
            using var all = finite.all();
            if (!all.item<bool>())
            {
                throw new EvolverException($"{source}: tensor '{name}' has NaN or infinite values");
            }
        }
    }
}
