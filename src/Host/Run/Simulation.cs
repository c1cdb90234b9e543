using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// The pseudo-task <c>simulated</c>: evaluators that sleep a log-normal time and invent a score
/// (<c>evolver.run.simulation { median-ms, sigma, scoring = never|always|random, seed }</c>). The service
/// benchmarks run the real actors, journal and weight store with it.
/// </summary>
internal static class SimulationSettings
{
    public const string Task = "simulated";

    public static SimulationOptions Parse(Settings c) => new(
        c.Double("median-ms", 50, 0, 3_600_000),
        c.Double("sigma", 0.5, 0, 10),
        c.Choice("scoring", SimulatedScoring.Random, new Dictionary<string, SimulatedScoring>(StringComparer.Ordinal)
        {
            ["never"] = SimulatedScoring.Never,
            ["always"] = SimulatedScoring.Always,
            ["random"] = SimulatedScoring.Random,
        }),
        c.Int("seed", 1));

    public static Func<Device, IPopulationFitness> Factory(SimulationOptions options)
    {
        var index = 0;
        return _ => new SimulatedFitness(options, SimulationStats.Shared, Interlocked.Increment(ref index));
    }
}
