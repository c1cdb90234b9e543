namespace EvolverActors.Tensors.Operators;

/// <summary>Operators by stable name. An unknown name fails at start-up with the list of known ones.</summary>
public static class OperatorRegistry
{
    private static readonly Dictionary<string, Func<IReadOnlyDictionary<string, string>, MutationOperator>> Factories =
        new(StringComparer.Ordinal)
        {
            ["evolver"] = p => new EvolverOperator(Parameter(p, "best-probability", 0)),
            ["de-rand-1"] = _ => new DeRand1(),
            ["de-best-1"] = _ => new DeBest1(),
            ["de-current-to-best-1"] = _ => new DeCurrentToBest1(),
        };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static MutationOperator Get(string name, IReadOnlyDictionary<string, string>? parameters = null)
    {
        if (!Factories.TryGetValue(name, out var make))
        {
            throw new EvolverException($"unknown operator '{name}': known operators are {string.Join(", ", Names)}");
        }
        return make(parameters ?? new Dictionary<string, string>());
    }

    private static double Parameter(IReadOnlyDictionary<string, string> parameters, string key, double fallback)
    {
        if (!parameters.TryGetValue(key, out var text))
        {
            return fallback;
        }
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EvolverException($"operator parameter {key} = '{text}' is not a number");
    }
}
