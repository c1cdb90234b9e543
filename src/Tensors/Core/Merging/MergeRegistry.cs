namespace EvolverActors.Tensors.Merging;

/// <summary>
/// The merge methods by stable name, each built from string key=value parameters
/// (e.g. <c>Get("ties", MergeParameters.ParseKeyValues(["density=0.3", "lambda=0.7"]))</c>).
/// An unknown name, an unknown parameter or an out-of-range value fails at start-up with an
/// <see cref="EvolverException"/> that says what is allowed.
/// </summary>
public static class MergeRegistry
{
    private static readonly Dictionary<string, Func<IReadOnlyDictionary<string, string>?, IMergeMethod>> Factories =
        new(StringComparer.OrdinalIgnoreCase)
        {
            [AverageMerge.MethodName] = p => new AverageMerge(AverageOptions.Parse(p)),
            [TaskArithmeticMerge.MethodName] = p => new TaskArithmeticMerge(TaskArithmeticOptions.Parse(p)),
            [TiesMerge.MethodName] = p => new TiesMerge(TiesOptions.Parse(p)),
            [DareMerge.MethodName] = p => new DareMerge(DareOptions.Parse(p)),
            [FisherMerge.MethodName] = p => new FisherMerge(FisherOptions.Parse(p)),
            [RegMeanMerge.MethodName] = p => new RegMeanMerge(RegMeanOptions.Parse(p)),
            [LinearMerge.MethodName] = p => new LinearMerge(LinearOptions.Parse(p)),
        };

    /// <summary>The stable names, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Factories.Keys];

    public static bool Contains(string name) => Factories.ContainsKey(name);

    /// <summary>The method called <paramref name="name"/> with the given parameters (null or empty: defaults).</summary>
    public static IMergeMethod Get(string name, IReadOnlyDictionary<string, string>? parameters = null)
    {
        RequireKnown(name);
        return Factories[name](parameters);
    }

    /// <summary>The method called <paramref name="name"/> with parameters given as <c>key=value</c> strings.</summary>
    public static IMergeMethod Get(string name, IEnumerable<string> keyValues) =>
        Get(name, MergeParameters.ParseKeyValues(keyValues));

    /// <summary>Fails with the list of known names unless <paramref name="name"/> is one of them.</summary>
    public static void RequireKnown(string name)
    {
        if (!Factories.ContainsKey(name))
        {
            throw new EvolverException($"unknown merge method '{name}'; known methods: {string.Join(", ", Names)}");
        }
    }
}
