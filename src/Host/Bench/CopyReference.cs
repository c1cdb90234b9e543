using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Bench;

/// <summary>
/// The copy bandwidth a rebuild is compared with: two weight sets of the replay's layout, allocated as rebuild buffers
/// are (huge-page blocks) and touched before any timing, copied one into the other tensor by tensor, both with torch's
/// <c>copy_</c> and with a non-temporal streaming copy on every core. <see cref="Sample"/> is called between rebuilds, so
/// the copies see the same machine load as the replay; the reference is the faster of the two, each over all its
/// samples (total bytes / total time, as the replay is), counting each copied byte twice (read and written).
/// </summary>
internal sealed class CopyReference : IDisposable
{
    private readonly WeightSet _source;
    private readonly WeightSet _destination;
    private readonly List<double> _torchMs = [];
    private readonly List<double> _streamingMs = [];

    public CopyReference(WeightLayout layout)
    {
        _source = WeightBuffers.Allocate(layout);
        _destination = WeightBuffers.Allocate(layout);
        Bytes = layout.Specs.Sum(s => s.Elements * DTypes.SizeOf(s.DType));
        foreach (var (_, tensor) in _source.Entries())
        {
            // Random contents, written here: no zero page or untouched memory behind the source.
            if (DTypes.IsFloating(tensor.dtype))
            {
                tensor.normal_();
            }
            else
            {
                tensor.fill_(1);
            }
        }
        _destination.CopyFrom(_source);
        Sample();
        _torchMs.Clear();
        _streamingMs.Clear();
    }

    /// <summary>Bytes of one set (each copy reads and writes them once).</summary>
    public long Bytes { get; }

    public int Samples => _torchMs.Count;

    /// <summary>torch <c>copy_</c>: bytes read and written over all samples, per second of all samples.</summary>
    public double TorchGbPerS => GbPerSOver(_torchMs);

    /// <summary>The streaming copy: bytes read and written over all samples, per second of all samples.</summary>
    public double StreamingGbPerS => GbPerSOver(_streamingMs);

    // Totals, not medians, as for the replay: both then average over the same stalls of a shared machine.
    private double GbPerSOver(List<double> ms) => 2.0 * Bytes * ms.Count / (ms.Sum() / 1000) / 1e9;

    /// <summary>The reference: the faster plain copy.</summary>
    public double GbPerS => Math.Max(TorchGbPerS, StreamingGbPerS);

    /// <summary>Times one copy of the set with each method.</summary>
    public void Sample()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        _destination.CopyFrom(_source);
        _torchMs.Add(watch.Elapsed.TotalMilliseconds);
        watch.Restart();
        for (var t = 0; t < _source.Count; t++)
        {
            StreamingCopy.Copy(_source[t], _destination[t]);
        }
        _streamingMs.Add(watch.Elapsed.TotalMilliseconds);
    }

    public void Dispose()
    {
        _source.Dispose();
        _destination.Dispose();
    }
}
