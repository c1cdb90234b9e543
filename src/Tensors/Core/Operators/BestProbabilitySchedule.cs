using System.Globalization;

namespace EvolverActors.Tensors.Operators;

/// <summary>
/// The chance that the Evolver operator's x_ref is the best other member rather than a random other member:
/// a constant, or <c>reference</c>, the annealed schedule of the original Evolver implementation,
/// <c>p = 0.5 − 0.5/(G − g)</c> in generation g of G (0 once G − g ≤ 1), expressed over a steady-state run's progress
/// (docs/architecture.md §1).
/// </summary>
public sealed record BestProbabilitySchedule
{
    private BestProbabilitySchedule(double? constant) => Constant = constant;

    /// <summary>The original implementation's annealed schedule (<see cref="ReferenceBestProbability"/>).</summary>
    public static BestProbabilitySchedule Reference { get; } = new((double?)null);

    /// <summary>The fixed probability, or null for <see cref="Reference"/>.</summary>
    public double? Constant { get; }

    public bool IsReference => Constant is null;

    /// <summary>A fixed probability in [0, 1] (0: x_ref is always a random other member).</summary>
    public static BestProbabilitySchedule Fixed(double p) => p is >= 0 and <= 1
        ? new BestProbabilitySchedule(p)
        : throw new EvolverException($"best-probability = {p.ToString(CultureInfo.InvariantCulture)} is out of range: it must be in [0, 1] or 'reference'");

    /// <summary><c>reference</c> or a number in [0, 1].</summary>
    public static BestProbabilitySchedule Parse(string text)
    {
        var trimmed = text.Trim();
        if (string.Equals(trimmed, "reference", StringComparison.OrdinalIgnoreCase))
        {
            return Reference;
        }
        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && double.IsFinite(p)
            ? Fixed(p)
            : throw new EvolverException($"best-probability = '{text}' is neither 'reference' nor a number in [0, 1]");
    }

    /// <summary>The probability for the offspring with 0-based index <paramref name="offspringIndex"/> of a run of
    /// <paramref name="budget"/> offspring over <paramref name="slots"/> slots.</summary>
    public double For(long offspringIndex, int slots, long budget) =>
        Constant ?? ReferenceBestProbability(offspringIndex, slots, budget);

    /// <summary>
    /// The original Evolver implementation's schedule over a run's progress: with <paramref name="budget"/> offspring
    /// and <paramref name="slots"/> slots there are G = ⌈budget / slots⌉ generations-equivalent, offspring n is in
    /// generation g = ⌊n / slots⌋, and p = 0.5 − 0.5/(G − g), or 0 when G − g ≤ 1 (the last generation, and past the
    /// budget). G = 20: 0.475 in the first generation, falling to 0 in the last.
    /// </summary>
    public static double ReferenceBestProbability(long offspringIndex, int slots, long budget)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offspringIndex);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        var generations = (budget + slots - 1) / slots;
        var generation = offspringIndex / slots;
        var left = generations - generation;
        return left <= 1 ? 0 : 0.5 - (0.5 / left);
    }

    /// <summary>The config spelling: <c>reference</c> or the number.</summary>
    public override string ToString() => Constant is { } p ? p.ToString("R", CultureInfo.InvariantCulture) : "reference";
}

/// <summary>The order in which a breeder visits the slots.</summary>
public enum TargetOrder
{
    /// <summary>Every slot once per round, in a random order per round.</summary>
    Shuffled,

    /// <summary>Slot n mod N for the n-th offspring, as the original Evolver implementation loops over the population.</summary>
    Fixed,
}

/// <summary>Targets by offspring index: pure functions, so a resumed run continues the same sequence.</summary>
public static class TargetSequence
{
    /// <summary>
    /// The slot the 0-based <paramref name="offspringIndex"/>-th offspring targets. Fixed: n mod N. Shuffled: position
    /// n mod N of round ⌊n / N⌋'s permutation of the slots, a Fisher–Yates shuffle seeded from
    /// (<paramref name="runSeed"/>, round) by <see cref="CounterRng.OffspringSeed"/>.
    /// </summary>
    public static int TargetFor(TargetOrder order, ulong runSeed, long offspringIndex, int slots)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offspringIndex);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        var position = (int)(offspringIndex % slots);
        if (order == TargetOrder.Fixed)
        {
            return position;
        }
        var permutation = RoundPermutation(runSeed, offspringIndex / slots, slots);
        return permutation[position];
    }

    /// <summary>Round <paramref name="round"/>'s visiting order of the slots in shuffled order.</summary>
    public static int[] RoundPermutation(ulong runSeed, long round, int slots)
    {
        var permutation = Enumerable.Range(0, slots).ToArray();
        var seed = CounterRng.OffspringSeed(runSeed ^ ShuffleDomain, round);
        for (var i = slots - 1; i > 0; i--)
        {
            var j = (int)CounterRng.Below(seed, (ulong)i, i + 1);
            (permutation[i], permutation[j]) = (permutation[j], permutation[i]);
        }
        return permutation;
    }

    // Keeps the shuffle's seeds apart from the offspring seeds of the same (run seed, index).
    private const ulong ShuffleDomain = 0xD1B54A32D192ED03UL;

    /// <summary>Parses <c>fixed</c> or <c>shuffled</c>.</summary>
    public static TargetOrder ParseOrder(string name) => name.ToLowerInvariant() switch
    {
        "fixed" => TargetOrder.Fixed,
        "shuffled" => TargetOrder.Shuffled,
        _ => throw new EvolverException($"unknown target order '{name}': use fixed or shuffled"),
    };
}
