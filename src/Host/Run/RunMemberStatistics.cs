using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// A merged run's Fisher or Gram statistics, looked up per member (docs/architecture.md §6, "Admission and retirement"):
/// a starting slot's from the file configured for it, a member admitted while running from the run's population
/// snapshots, where the admission kept them under an id of their own (verified against their content hash on load).
/// Each set is loaded once onto the merge's device and kept while its member is in the population.
/// </summary>
internal sealed class RunMemberStatistics(RunPopulation population, StatisticsKind kind, Device device, Func<string, Device, WeightSet?>? admitted)
    : IMemberStatistics
{
    private readonly Dictionary<MemberKey, WeightSet> _loaded = [];
    private WeightLayout? _layout;

    public MergeInputs For(IReadOnlyList<MemberKey> members)
    {
        var sets = members.Select(Get).ToList();
        foreach (var gone in _loaded.Keys.Except(members).ToList())
        {
            _loaded[gone].Dispose();
            _loaded.Remove(gone);
        }
        return kind == StatisticsKind.Fisher ? new MergeInputs { Fisher = sets } : new MergeInputs { Grams = sets };
    }

    /// <summary>
    /// Checks every starting slot's file (read once, let go), before a run directory is touched: missing statistics, or
    /// a file that is not statistics of this kind for the population's layout, is one line.
    /// </summary>
    public static void RequireStarting(RunPopulation population, StatisticsKind kind)
    {
        var layout = Checkpoint.ReadLayout(population.Members[0]);
        for (var slot = 0; slot < population.Members.Count; slot++)
        {
            StatisticsFiles.Load(StartingPath(population, kind, slot), kind, layout).Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var set in _loaded.Values)
        {
            set.Dispose();
        }
        _loaded.Clear();
    }

    private WeightSet Get(MemberKey member)
    {
        if (_loaded.TryGetValue(member, out var loaded))
        {
            return loaded;
        }
        var set = member.Statistics is { } id ? Admitted(member.Slot, id) : Starting(member.Slot);
        _loaded[member] = set;
        return set;
    }

    private WeightSet Admitted(int slot, string id) =>
        admitted?.Invoke(id, device) ?? throw new EvolverException(
            $"slot {slot}: its {StatisticsFiles.Code(kind)} statistics ('{id}') are in no population snapshot of the run (the snapshots directory lost them?)");

    private WeightSet Starting(int slot)
    {
        _layout ??= Checkpoint.ReadLayout(population.Members[0]);
        var path = StartingPath(population, kind, slot);
        var set = StatisticsFiles.Load(path, kind, _layout);
        if (device.type == DeviceType.CPU)
        {
            return set;
        }
        using (set)
        {
            return Checkpoint.Load(path, device);
        }
    }

    private static string StartingPath(RunPopulation population, StatisticsKind kind, int slot)
    {
        var paths = kind == StatisticsKind.Fisher ? population.Fisher : population.Grams;
        return (slot < paths.Count ? paths[slot] : null) ?? throw new EvolverException(
            $"slot {slot} has no {StatisticsFiles.Code(kind)} statistics (give population.statistics.{StatisticsFiles.Code(kind)} = [...], rebuild the zoo, or use merge-method = average)");
    }
}
