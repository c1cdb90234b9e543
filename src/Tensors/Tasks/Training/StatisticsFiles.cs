using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Training;

/// <summary>The statistics a merge method weighs its members by.</summary>
public enum StatisticsKind
{
    /// <summary>Diagonal Fisher information: one tensor per model parameter, same shape, every value ≥ 0.</summary>
    Fisher,

    /// <summary>RegMean Gram matrices XᵀX: for a linear weight <c>name</c> [out, in], a symmetric [in, in] matrix.</summary>
    Gram,
}

/// <summary>
/// Statistics on disk are safetensors files (or checkpoint directories) like any other, so they say what they are: the
/// header's <c>__metadata__</c> holds <c>"evolver.statistics": "fisher" | "gram"</c>. Loading checks the declaration,
/// and for files without one (older builds) what the tensors are: a model checkpoint given as statistics is refused
/// with a line naming the path and what it is instead, never merged with its weights taken for Fisher values.
/// </summary>
public static class StatisticsFiles
{
    public const string MetadataKey = "evolver.statistics";

    /// <summary>The key older zoo builds wrote the kind under (<c>"content": "fisher" | "gram"</c>).</summary>
    private const string LegacyZooKey = "content";

    /// <summary>The declaration's value for <paramref name="kind"/>: <c>fisher</c> or <c>gram</c>.</summary>
    public static string Code(StatisticsKind kind) => kind == StatisticsKind.Fisher ? "fisher" : "gram";

    /// <summary>
    /// The <c>__metadata__</c> of a statistics file of <paramref name="kind"/>: <c>format</c> = pt and the declaration,
    /// plus <paramref name="extra"/> entries.
    /// </summary>
    public static Dictionary<string, string> Metadata(StatisticsKind kind, IReadOnlyDictionary<string, string>? extra = null)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            metadata[key] = value;
        }
        metadata[MetadataKey] = Code(kind);
        return metadata;
    }

    /// <summary>Writes <paramref name="statistics"/> as one .safetensors file that declares its kind.</summary>
    public static void Save(string path, WeightSet statistics, StatisticsKind kind) =>
        SafetensorsWriter.Write(path, statistics.Entries(), Metadata(kind));

    /// <summary>
    /// The kind a file's <c>__metadata__</c> declares, or null when it declares none (a model checkpoint, or statistics
    /// from an older build). An unknown declared kind is an error naming <paramref name="path"/>.
    /// </summary>
    public static StatisticsKind? Declared(IReadOnlyDictionary<string, string> metadata, string path)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.TryGetValue(MetadataKey, out var code))
        {
            return Parse(code) ?? throw new EvolverException(
                $"{path}: __metadata__ '{MetadataKey}' is '{code}': expected {Code(StatisticsKind.Fisher)} or {Code(StatisticsKind.Gram)}");
        }
        return metadata.TryGetValue(LegacyZooKey, out var legacy) ? Parse(legacy) : null;
    }

    /// <summary>
    /// Refuses a statistics file given where a model checkpoint belongs (e.g. <c>evolver merge fisher-0 fisher-1</c>);
    /// reads the header only.
    /// </summary>
    public static void RequireModel(string path)
    {
        using var reader = Checkpoint.Open(path);
        if (Declared(reader.Metadata, path) is { } kind)
        {
            throw new EvolverException($"{path}: holds {Title(kind)} statistics (declared in its __metadata__), not a model checkpoint");
        }
    }

    /// <summary>
    /// Loads the <paramref name="kind"/> statistics at <paramref name="path"/> for models of layout
    /// <paramref name="model"/> (on the CPU; the caller owns the result). Refused, each with one line naming the path:
    /// a file that declares the other kind; one whose tensors do not fit the model as <paramref name="kind"/>
    /// statistics must (names, shapes, Fisher ≥ 0, Grams symmetric with a diagonal ≥ 0), named as what it is instead
    /// when that can be told (a model checkpoint, the other kind).
    /// </summary>
    public static WeightSet Load(string path, StatisticsKind kind, WeightLayout model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var declared = DeclaredKind(path, kind);
        var set = Checkpoint.Load(path);
        try
        {
            var source = new Source(set.Layout.Specs, name => set[name]);
            if (Problem(kind, source, model) is { } problem)
            {
                throw new EvolverException($"{path}: {Describe(kind, declared, source, model, problem)}");
            }
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The same checks as <see cref="Load"/>, with the same messages, reading one tensor at a time and keeping none:
    /// memory stays at one tensor whatever the file's size (for <c>evolver merge</c>, which streams the statistics
    /// afterwards).
    /// </summary>
    public static void Validate(string path, StatisticsKind kind, WeightLayout model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var declared = DeclaredKind(path, kind);
        using var reader = Checkpoint.Open(path);
        var source = new Source(reader.Specs, reader.ReadTensor);
        if (Problem(kind, source, model) is { } problem)
        {
            throw new EvolverException($"{path}: {Describe(kind, declared, source, model, problem)}");
        }
    }

    /// <summary>A file's tensors: their specs in file order, and a read of one (a new tensor, or one the caller keeps).</summary>
    private sealed record Source(IReadOnlyList<TensorSpec> Specs, Func<string, Tensor> Read);

    /// <summary>The kind the file declares (null when none); declaring the other kind than <paramref name="kind"/> is refused.</summary>
    private static StatisticsKind? DeclaredKind(string path, StatisticsKind kind)
    {
        StatisticsKind? declared;
        using (var reader = Checkpoint.Open(path))
        {
            declared = Declared(reader.Metadata, path);
        }
        if (declared is { } other && other != kind)
        {
            throw new EvolverException($"{path}: holds {Title(other)} statistics (declared in its __metadata__), not {Title(kind)} statistics");
        }
        return declared;
    }

    /// <summary>
    /// Why the tensors of <paramref name="source"/> are not <paramref name="kind"/> statistics for <paramref name="model"/>,
    /// or null when they are. Each tensor is read (in its own dispose scope) only when its values must be looked at.
    /// </summary>
    private static string? Problem(StatisticsKind kind, Source source, WeightLayout model)
    {
        if (source.Specs.Count == 0)
        {
            return "it holds no tensors";
        }
        var specs = model.Specs.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var stat in source.Specs)
        {
            var name = stat.Name;
            if (!specs.TryGetValue(name, out var spec))
            {
                return $"tensor '{name}' is not a tensor of the model";
            }
            if (!DTypes.IsFloating(spec.DType))
            {
                continue; // integer buffers are never merged (they come from the first model): nothing reads this
            }
            if (!DTypes.IsFloating(stat.DType))
            {
                return $"tensor '{name}' is {DTypes.ToCode(stat.DType)}, not floating point";
            }
            using var scope = NewDisposeScope();
            var tensor = source.Read(name);
            var problem = kind == StatisticsKind.Fisher ? FisherProblem(name, tensor, spec) : GramProblem(name, tensor, spec);
            if (problem is not null)
            {
                return problem;
            }
        }
        return null;
    }

    private static string? FisherProblem(string name, Tensor fisher, TensorSpec spec)
    {
        if (!fisher.shape.SequenceEqual(spec.Shape))
        {
            return $"tensor '{name}' has shape {Shape(fisher.shape)}, the model's is {spec.ShapeText}";
        }
        using var scope = NewDisposeScope();
        return fisher.lt(0).any().item<bool>() ? $"tensor '{name}' has negative values, which a Fisher diagonal cannot have" : null;
    }

    private static string? GramProblem(string name, Tensor gram, TensorSpec spec)
    {
        if (spec.Shape.Length != 2)
        {
            return $"tensor '{name}' is for a {spec.Shape.Length}-D model tensor {spec.ShapeText}; Gram matrices are for 2-D linear weights";
        }
        var inputs = spec.Shape[1];
        if (!gram.shape.SequenceEqual([inputs, inputs]))
        {
            return $"tensor '{name}' has shape {Shape(gram.shape)}; the Gram matrix of a {spec.ShapeText} weight is [{inputs}, {inputs}]";
        }
        using var scope = NewDisposeScope();
        var g = gram.to(ScalarType.Float64);
        var scale = Math.Max(g.abs().max().item<double>(), 1e-30);
        if ((g - g.T).abs().max().item<double>() > 1e-3 * scale)
        {
            return $"tensor '{name}' is not symmetric, as a Gram matrix XᵀX is";
        }
        return g.diagonal().lt(0).any().item<bool>() ? $"tensor '{name}' has negative values on its diagonal, which a Gram matrix XᵀX cannot have" : null;
    }

    /// <summary>What to say about statistics that failed the check: what the file is instead, when that can be told.</summary>
    private static string Describe(StatisticsKind kind, StatisticsKind? declared, Source source, WeightLayout model, string problem)
    {
        if (declared is not null)
        {
            return $"{Title(kind)} statistics that do not fit the models: {problem}";
        }
        var other = kind == StatisticsKind.Fisher ? StatisticsKind.Gram : StatisticsKind.Fisher;
        if (Problem(other, source, model) is null)
        {
            return $"holds {Title(other)} statistics, not {Title(kind)} statistics";
        }
        return WeightLayout.FirstMismatch(new WeightLayout(source.Specs), "the file", model, "the model") is null
            ? $"is a model checkpoint, not {Title(kind)} statistics ({problem})"
            : $"not {Title(kind)} statistics for these models: {problem}";
    }

    private static StatisticsKind? Parse(string code) => code switch
    {
        "fisher" => StatisticsKind.Fisher,
        "gram" => StatisticsKind.Gram,
        _ => null,
    };

    private static string Title(StatisticsKind kind) => kind == StatisticsKind.Fisher ? "Fisher" : "Gram";

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
