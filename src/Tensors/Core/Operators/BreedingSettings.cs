using System.Text.RegularExpressions;

namespace EvolverActors.Tensors.Operators;

/// <summary>How the mutant and the target are mixed into the child.</summary>
public enum CrossoverKind
{
    /// <summary>Each unit independently takes the mutant with probability CR (optionally one forced unit, j_rand).</summary>
    Binomial,

    /// <summary>One contiguous run of units (wrapping) from a random start takes the mutant; its length is geometric in CR.</summary>
    Exponential,
}

/// <summary>The unit that crossover decides on.</summary>
public enum Granularity
{
    Element,
    Tensor,

    /// <summary>All tensors of one layer ("encoder.layer.3.*") decide together; tensors outside numbered layers group by their first name part.</summary>
    Layer,
}

/// <summary>Whether operators act on raw weights or on task vectors (weights minus a base checkpoint).</summary>
public enum WeightSpace
{
    Raw,
    TaskVector,
}

/// <summary>The breeding parameters of one offspring: everything besides parents and seed needed to rebuild it.</summary>
public sealed record BreedingSettings
{
    public double F { get; init; } = 0.5;
    public double CR { get; init; } = 0.5;
    public CrossoverKind Crossover { get; init; } = CrossoverKind.Binomial;

    /// <summary>Binomial only: force at least one unit to come from the mutant (classical DE's j_rand).</summary>
    public bool GuaranteeJRand { get; init; }

    public Granularity Granularity { get; init; } = Granularity.Element;

    /// <summary>Parameter names that never change (e.g. classifier heads): the child keeps the target's tensor.</summary>
    public Regex? Exclude { get; init; }

    public WeightSpace Space { get; init; } = WeightSpace.Raw;

    /// <summary>Refuses out-of-range values with a message naming the parameter and its range.</summary>
    public BreedingSettings Validated(MutationOperator op)
    {
        if (!double.IsFinite(F) || F < op.MinF || F > op.MaxF)
        {
            throw new EvolverException($"F = {F} is out of range for operator '{op.Name}': it must be in [{op.MinF}, {op.MaxF}]");
        }
        if (!double.IsFinite(CR) || CR < 0 || CR > 1)
        {
            throw new EvolverException($"CR = {CR} is out of range: the crossover rate must be in [0, 1]");
        }
        return this;
    }

    public static CrossoverKind ParseCrossover(string name) => name.ToLowerInvariant() switch
    {
        "binomial" or "bin" => CrossoverKind.Binomial,
        "exponential" or "exp" => CrossoverKind.Exponential,
        _ => throw new EvolverException($"unknown crossover '{name}': use binomial or exponential"),
    };

    public static Granularity ParseGranularity(string name) => name.ToLowerInvariant() switch
    {
        "element" => Granularity.Element,
        "tensor" => Granularity.Tensor,
        "layer" => Granularity.Layer,
        _ => throw new EvolverException($"unknown granularity '{name}': use element, tensor or layer"),
    };

    public static WeightSpace ParseSpace(string name) => name.ToLowerInvariant() switch
    {
        "raw" => WeightSpace.Raw,
        "task-vector" => WeightSpace.TaskVector,
        _ => throw new EvolverException($"unknown weight space '{name}': use raw or task-vector"),
    };
}
