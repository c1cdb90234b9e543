using EvolverActors.Actors.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Evaluation;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// The pseudo-task <c>simulated</c>: evaluators that sleep a log-normal time and invent a score
/// (<c>evolver.run.simulation { median-ms, sigma, scoring = never|always|random }</c>). The service
/// benchmarks run the real actors, journal and weight store with it.
/// </summary>
internal static class Simulation
{
    public const string Task = "simulated";

    public static SimulationOptions Options(string configText)
    {
        var c = Akka.Configuration.ConfigurationFactory.ParseString(configText);
        var scoring = c.GetString("evolver.run.simulation.scoring", "random").ToLowerInvariant() switch
        {
            "never" => SimulatedScoring.Never,
            "always" => SimulatedScoring.Always,
            "random" => SimulatedScoring.Random,
            var other => throw new EvolverException($"evolver.run.simulation.scoring '{other}' is unknown: use never, always or random"),
        };
        return new SimulationOptions(c.GetDouble("evolver.run.simulation.median-ms", 50), c.GetDouble("evolver.run.simulation.sigma", 0.5),
            scoring, c.GetInt("evolver.run.simulation.seed", 1));
    }

    public static Func<Device, IPopulationFitness> Factory(SimulationOptions options)
    {
        var index = 0;
        return _ => new SimulatedFitness(options, SimulationStats.Shared, Interlocked.Increment(ref index));
    }

    public static bool IsSimulated(RunSettings settings) => settings.Task == Task;
}
