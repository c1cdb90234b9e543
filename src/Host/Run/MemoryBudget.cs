using EvolverActors.Actors.Run;
using EvolverActors.Host.Commands;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;

namespace EvolverActors.Host.Run;

/// <summary>
/// How a node spends <c>memory.max-resident</c> (docs/architecture.md §3, members of any size): members and snapshots
/// are memory-mapped and count nothing; in merged mode every evaluator keeps one candidate model of its own; the rest is
/// the weight cache, which holds the offspring in use and, least recently used first out, those that were.
/// </summary>
internal static class MemoryBudget
{
    /// <summary>Bytes of one model of <paramref name="population"/> (its first member's tensor data).</summary>
    public static long ModelBytes(RunPopulation population) =>
        Checkpoint.ReadLayout(population.Members[0]).Specs.Sum(SafetensorsWriter.DataBytes);

    /// <summary>
    /// The weight cache's share of the budget (0 without a budget: unbounded). Refuses a budget that cannot hold each
    /// merged-mode evaluator's candidate and one offspring besides.
    /// </summary>
    public static long CacheBytes(RunSettings settings, RunPopulation population, string source)
    {
        if (settings.MaxResidentBytes <= 0)
        {
            return 0;
        }
        var model = ModelBytes(population);
        var candidates = settings.Mode == FitnessMode.Merged ? settings.Devices.Count : 0;
        var needed = (candidates + 1) * model;
        if (settings.MaxResidentBytes < needed)
        {
            var what = candidates > 0 ? $"one merged-mode candidate per evaluator ({candidates}) and one offspring" : "one offspring";
            throw new EvolverException($"{source}: evolver.run.memory.max-resident = {ByteSize.Format(settings.MaxResidentBytes)} is too small for models of "
                + $"{ByteSize.Format(model)}: it must hold {what}, {ByteSize.Format(needed)}");
        }
        return settings.MaxResidentBytes - (candidates * model);
    }
}
