using System.Text.RegularExpressions;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>What <see cref="CheckpointMerge.Run"/> merges, and how.</summary>
/// <param name="Method">The merge method.</param>
/// <param name="Models">The checkpoints to merge (files, directories or index files), in model order.</param>
public sealed record CheckpointMergeRequest(IMergeMethod Method, IReadOnlyList<string> Models)
{
    /// <summary>The base checkpoint (task-arithmetic, ties, dare), or null.</summary>
    public string? Base { get; init; }

    /// <summary>Fisher statistics, one per model in model order, or empty.</summary>
    public IReadOnlyList<string> Fisher { get; init; } = [];

    /// <summary>Gram statistics, one per model in model order, or empty.</summary>
    public IReadOnlyList<string> Grams { get; init; } = [];

    /// <summary>Names copied from the first model instead of merged.</summary>
    public Regex? Exclude { get; init; }

    /// <summary>The dtype floating tensors are written in (null: the models').</summary>
    public ScalarType? OutputType { get; init; }

    /// <summary>The largest data size of one output file before the output is sharded.</summary>
    public long MaxShardBytes { get; init; } = long.MaxValue;

    /// <summary>The <c>__metadata__</c> of every output file.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>What <see cref="CheckpointMerge.Run"/> wrote.</summary>
/// <param name="Files">The files written (shards, then the index; or model.safetensors).</param>
/// <param name="Layout">The output's tensors, in the first model's order.</param>
public sealed record CheckpointMergeResult(IReadOnlyList<string> Files, WeightLayout Layout);

/// <summary>
/// Merges checkpoints on disk tensor by tensor (docs/architecture.md §5, merging checkpoints of any size): for each
/// tensor of the first model, in its order, the same-named tensor is read from every model, the base and the
/// statistics, checked finite, merged (<see cref="IMergeMethod.Begin"/>), written to its place in the output
/// (<see cref="CheckpointWriter"/>) and freed. Peak memory is one tensor of each input plus the method's float32
/// temporaries for it, whatever the models' size; the result is bit for bit what <see cref="IMergeMethod.Merge"/>
/// gives on the loaded models. Every method merges per tensor (ties trims each tensor's own top-k, dare draws its
/// masks tensor by tensor in order), so none needs a first pass over the models.
/// The caller checks the layouts (<see cref="Checkpoint.RequireSameLayout"/>) and the statistics files first; a
/// failure part-way (a NaN, a statistic of the wrong shape, a full disk) leaves no output behind.
/// </summary>
public static class CheckpointMerge
{
    public static CheckpointMergeResult Run(CheckpointMergeRequest request, string output)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Models.Count == 0)
        {
            throw new EvolverException($"merge method '{request.Method.Name}' needs at least one model");
        }
        foreach (var (stats, kind) in new[] { (request.Fisher, "Fisher"), (request.Grams, "Gram") })
        {
            if (stats.Count != 0 && stats.Count != request.Models.Count)
            {
                throw new EvolverException(
                    $"merge method '{request.Method.Name}': {stats.Count} {kind} statistic sets for {request.Models.Count} models; give one per model");
            }
        }
        var readers = new List<Input>();
        Input Open(string path)
        {
            var input = new Input(path, Checkpoint.Open(path));
            readers.Add(input);
            return input;
        }
        try
        {
            var models = request.Models.Select(Open).ToList();
            var baseModel = request.Base is null ? null : Open(request.Base);
            var fisher = request.Fisher.Select(Open).ToList();
            var grams = request.Grams.Select(Open).ToList();
            var specs = models[0].Reader.Specs;
            var outputSpecs = specs.Select(s => request.OutputType is { } type && DTypes.IsFloating(s.DType) ? s with { DType = type } : s).ToList();

            using var merger = request.Method.Begin(baseModel is not null, CPU);
            using var writer = new CheckpointWriter(output, outputSpecs, request.Metadata, request.MaxShardBytes);
            foreach (var spec in specs)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var name = spec.Name;
                var group = new TensorGroup(name, [.. models.Select(m => Read(m, name))])
                {
                    Base = baseModel is null ? null : Read(baseModel, name),
                    Fisher = fisher.Count == 0 ? null : [.. fisher.Select(s => s.Reader.Contains(name) ? Read(s, name) : null)],
                    Grams = grams.Count == 0 ? null : [.. grams.Select(s => s.Reader.Contains(name) ? Read(s, name) : null)],
                };
                var merged = merger.Merge(group, request.Exclude);
                if (request.OutputType is { } type && DTypes.IsFloating(merged.dtype) && merged.dtype != type)
                {
                    merged = merged.to(type);
                }
                writer.Write(name, merged);
            }
            return new CheckpointMergeResult(writer.Commit(), new WeightLayout(outputSpecs));
        }
        finally
        {
            readers.ForEach(r => r.Reader.Dispose());
        }
    }

    /// <summary>An open input and the path it was given as (error messages name that).</summary>
    private sealed record Input(string Path, CheckpointReader Reader);

    /// <summary>One tensor of one input, refused (naming the input and the tensor) when it holds NaN or ∞.</summary>
    private static Tensor Read(Input input, string name)
    {
        var tensor = input.Reader.ReadTensor(name);
        Checkpoint.RequireFinite(input.Path, name, tensor);
        return tensor;
    }
}
