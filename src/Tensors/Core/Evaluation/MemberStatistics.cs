using EvolverActors.Tensors.Merging;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// Who a synced population entry is, for its merge statistics (docs/architecture.md §6, "Admission and retirement"):
/// its slot in the run's ledger, and for a member admitted while running the id under which its statistics are kept
/// (null: the statistics configured for that starting slot). Positions in a synced population shift when a slot
/// retires; ledger slots never do.
/// </summary>
public readonly record struct MemberKey(int Slot, string? Statistics = null)
{
    /// <summary>The keys of a population of <paramref name="count"/> starting slots, none retired.</summary>
    public static IReadOnlyList<MemberKey> Starting(int count) => [.. Enumerable.Range(0, count).Select(slot => new MemberKey(slot))];
}

/// <summary>
/// Where a merged fitness gets what its merge needs besides the members (base, exclusions, and each member's Fisher or
/// Gram statistics), for whichever members the population has now. Implementations own what they load and may keep it
/// until it is asked for members without it; the inputs returned stay valid until the next <see cref="For"/> call.
/// </summary>
public interface IMemberStatistics : IDisposable
{
    /// <summary>The merge inputs for <paramref name="members"/>, with per-member statistics in the same order.</summary>
    MergeInputs For(IReadOnlyList<MemberKey> members);
}

/// <summary>Statistics fixed at construction: the starting population's, in slot order.</summary>
public sealed class FixedMemberStatistics(MergeInputs inputs) : IMemberStatistics
{
    /// <summary>
    /// The inputs, for the starting slots in order; with per-member statistics, any other membership is refused in one
    /// line (a population that changes needs a source that can look members up, such as the run's).
    /// </summary>
    public MergeInputs For(IReadOnlyList<MemberKey> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var perMember = inputs.Fisher ?? inputs.Grams;
        if (perMember is null)
        {
            return inputs;
        }
        var starting = members.Count == perMember.Count && members.Select((m, i) => m.Slot == i && m.Statistics is null).All(same => same);
        return starting
            ? inputs
            : throw new EvolverException(
                $"the merge statistics were given for the {perMember.Count} starting members only; population now: slots {string.Join(", ", members.Select(m => m.Slot))}");
    }

    /// <summary>The inputs stay the caller's.</summary>
    public void Dispose()
    {
    }
}

/// <summary>Helpers for the members argument of <see cref="IPopulationFitness.Sync"/>.</summary>
internal static class MemberKeys
{
    /// <summary><paramref name="members"/>, or the starting slots when null; one key per synced slot.</summary>
    public static IReadOnlyList<MemberKey> Of(int slots, IReadOnlyList<MemberKey>? members)
    {
        members ??= MemberKey.Starting(slots);
        return members.Count == slots
            ? members
            : throw new ArgumentException($"{members.Count} member keys for {slots} slots", nameof(members));
    }

    public static bool Same(IReadOnlyList<MemberKey>? a, IReadOnlyList<MemberKey> b) => a is not null && a.SequenceEqual(b);
}
