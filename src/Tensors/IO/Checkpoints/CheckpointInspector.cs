using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// Summary statistics of one tensor, computed in float64. <see cref="Std"/> is the sample
/// (unbiased, n − 1) standard deviation, as torch.std computes by default; statistics of an
/// empty tensor, and the std of a one-element tensor, are NaN.
/// </summary>
public sealed record TensorStats(
    string Name, ScalarType DType, long[] Shape, long Parameters, long Bytes,
    double Min, double Max, double Mean, double Std)
{
    public string DTypeCode => DTypes.ToCode(DType);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>Statistics of every tensor of a checkpoint, in checkpoint order, with totals.</summary>
public sealed record CheckpointSummary(
    string Path, IReadOnlyList<string> Files, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<TensorStats> Tensors)
{
    public long Parameters => Tensors.Sum(t => t.Parameters);
    public long Bytes => Tensors.Sum(t => t.Bytes);

    /// <summary>Tensor count per safetensors dtype code, sorted by code.</summary>
    public IReadOnlyDictionary<string, int> DTypeCounts =>
        Tensors.GroupBy(t => t.DTypeCode).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
}

/// <summary>Reads a checkpoint one tensor at a time and summarises each tensor.</summary>
public static class CheckpointInspector
{
    /// <summary>Elements converted to float64 at once, so a huge tensor needs no float64 copy of itself.</summary>
    private const long ChunkElements = 1L << 22;

    public static CheckpointSummary Inspect(string path)
    {
        using var reader = Checkpoint.Open(path);
        var stats = new List<TensorStats>(reader.Specs.Count);
        foreach (var spec in reader.Specs)
        {
            using var scope = NewDisposeScope();
            stats.Add(Describe(spec.Name, reader.ReadTensor(spec.Name)));
        }
        return new CheckpointSummary(reader.Path, reader.Files, reader.Metadata, stats);
    }

    /// <summary>
    /// Statistics of one tensor (any device or dtype). Chunks are combined with Chan et al.'s
    /// pairwise update of mean and sum of squared deviations, which stays accurate where
    /// sum-of-squares formulas cancel.
    /// </summary>
    public static TensorStats Describe(string name, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var flat = tensor.reshape(-1);
        long n = 0;
        double min = double.PositiveInfinity, max = double.NegativeInfinity, mean = 0, m2 = 0;
        for (long start = 0; start < flat.shape[0]; start += ChunkElements)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(ChunkElements, flat.shape[0] - start);
            var chunk = flat.narrow(0, start, length).to(ScalarType.Float64);
            var chunkMean = chunk.mean().item<double>();
            var chunkM2 = chunk.sub(chunkMean).square().sum().item<double>();
            min = Math.Min(min, chunk.min().item<double>());
            max = Math.Max(max, chunk.max().item<double>());
            var total = n + length;
            var delta = chunkMean - mean;
            mean += delta * length / total;
            m2 += chunkM2 + (delta * delta * n * length / total);
            n = total;
        }
        if (n == 0)
        {
            (min, max, mean) = (double.NaN, double.NaN, double.NaN);
        }
        var std = n > 1 ? Math.Sqrt(m2 / (n - 1)) : double.NaN;
        var bytes = n * DTypes.SizeOf(tensor.dtype);
        return new TensorStats(name, tensor.dtype, tensor.shape, n, bytes, min, max, mean, std);
    }
}
