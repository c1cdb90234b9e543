using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// A checkpoint opened in place: every tensor is a read-only view of a private memory mapping of its .safetensors file,
/// so opening reads nothing but the headers, and a tensor's bytes come from the page cache when it is used
/// (docs/architecture.md §3, members of any size). A tensor whose offset is not a multiple of its element size (which
/// safetensors does not require) is read into memory instead. Streaming code calls
/// <see cref="WeightSet.ReleasePages(int)"/> after each tensor, so resident memory stays at a few tensors.
/// </summary>
public static class MappedCheckpoint
{
    /// <summary>Maps the checkpoint at <paramref name="path"/> (a file, an index or a directory) on the CPU.</summary>
    public static WeightSet Open(string path)
    {
        using var reader = CheckpointReader.Open(path);
        var entries = new List<(string, Tensor, bool)>(reader.Specs.Count);
        var mappings = new Dictionary<(string File, ScalarType DType), Tensor>();
        try
        {
            foreach (var spec in reader.Specs)
            {
                var file = reader.FileOf(spec.Name);
                var (offset, length) = file.Placement(spec.Name);
                var size = (long)DTypes.SizeOf(spec.DType);
                if (length == 0 || offset % size != 0)
                {
                    entries.Add((spec.Name, file.ReadTensor(spec.Name), false));
                    continue;
                }
                var whole = Mapping(mappings, file.Path, spec.DType, size);
                entries.Add((spec.Name, whole.narrow(0, offset / size, length / size).view(spec.Shape), true));
            }
            return WeightSet.AdoptMapped(entries);
        }
        catch (Exception e) when (e is not CheckpointFormatException)
        {
            entries.ForEach(entry => entry.Item2.Dispose());
            throw new CheckpointFormatException(path, $"cannot be memory-mapped ({e.Message})");
        }
        catch
        {
            entries.ForEach(entry => entry.Item2.Dispose());
            throw;
        }
        finally
        {
            // The views keep the mappings' storage alive; the whole-file tensors themselves are not needed.
            foreach (var mapping in mappings.Values)
            {
                mapping.Dispose();
            }
        }
    }

    /// <summary>The whole file as a 1-D tensor of <paramref name="dtype"/> (one private mapping per file and dtype).</summary>
    private static Tensor Mapping(Dictionary<(string, ScalarType), Tensor> mappings, string file, ScalarType dtype, long size)
    {
        if (!mappings.TryGetValue((file, dtype), out var whole))
        {
            var elements = new FileInfo(file).Length / size;
            whole = from_file(file, shared: false, size: elements, dtype: dtype);
            mappings.Add((file, dtype), whole);
        }
        return whole;
    }
}
