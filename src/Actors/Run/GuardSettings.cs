using System.Globalization;
using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Actors.Run;

/// <summary>Which population version a run gives as its output.</summary>
public enum OutputChoice
{
    /// <summary>The population as it is when the run ends.</summary>
    Last,

    /// <summary>The population version whose guard score was the highest (the latest of equals).</summary>
    BestGuard,
}

/// <summary>
/// The guard against dev overfitting (<c>evolver.run.acceptance</c>; docs/architecture.md §1, "The guard"): a share of
/// the dev data, fixed by the run's seed, is held out from selection; an offspring that beats the current score on the
/// rest is still rejected when its score on the held-out part falls by more than <see cref="Tolerance"/>. Off by default.
/// </summary>
public sealed record GuardSettings
{
    /// <summary>The share of dev held out as the guard; 0: no guard.</summary>
    public double Fraction { get; init; }

    /// <summary>How far the guard score may fall below the current one and the offspring still be accepted.</summary>
    public double Tolerance { get; init; }

    /// <summary>Which population version is the run's output.</summary>
    public OutputChoice Output { get; init; } = OutputChoice.Last;

    public bool Enabled => Fraction > 0;

    /// <summary>The largest share of dev the guard may take: selection keeps at least a tenth.</summary>
    public const double MaxFraction = 0.9;

    /// <summary>The seed the dev data is split with: the run's, folded into the range a data split takes.</summary>
    public static int SplitSeed(ulong runSeed) => (int)(runSeed % int.MaxValue);

    /// <summary>The settings that change results, for the run's fingerprint: none when the guard is off (runs made before it keep theirs).</summary>
    public IEnumerable<KeyValuePair<string, string>> Identity()
    {
        if (Enabled)
        {
            yield return new("acceptance.guard-fraction", Fraction.ToString(CultureInfo.InvariantCulture));
            yield return new("acceptance.guard-tolerance", Tolerance.ToString(CultureInfo.InvariantCulture));
        }
        if (Output != OutputChoice.Last)
        {
            yield return new("acceptance.output", "best-guard");
        }
    }

    /// <summary>Parses the keys of <paramref name="run"/>; each problem is one line naming the key.</summary>
    public static GuardSettings Parse(Settings run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var fraction = run.Double("acceptance.guard-fraction", 0, 0, MaxFraction);
        var tolerance = run.Double("acceptance.guard-tolerance", 0, 0, 1);
        var output = run.Choice("acceptance.output", OutputChoice.Last,
            new Dictionary<string, OutputChoice>(StringComparer.Ordinal) { ["last"] = OutputChoice.Last, ["best-guard"] = OutputChoice.BestGuard });
        if (fraction == 0 && output == OutputChoice.BestGuard)
        {
            throw run.Problem("acceptance.output", "= best-guard needs a guard: set acceptance.guard-fraction (e.g. 0.3)");
        }
        if (fraction == 0 && tolerance > 0)
        {
            throw run.Problem("acceptance.guard-tolerance", "is set but there is no guard: set acceptance.guard-fraction (e.g. 0.3)");
        }
        return new GuardSettings { Fraction = fraction, Tolerance = tolerance, Output = output };
    }
}
