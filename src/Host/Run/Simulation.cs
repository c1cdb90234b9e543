using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>
/// The pseudo-task <c>simulated</c>: evaluators that sleep a log-normal time and invent a score
/// (<c>evolver.run.simulation { median-ms, sigma, scoring = never|always|random, seed, reads-weights }</c>). The service
/// benchmarks run the real actors, journal and weight store with it; with <c>reads-weights = true</c> the run's own
/// fitness mode (merged candidates included) scores through a scorer that reads every candidate.
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
        c.Int("seed", 1),
        c.Bool("reads-weights", false));

    public static Func<Device, IPopulationFitness> Factory(SimulationOptions options, Actors.Run.RunSettings settings)
    {
        var index = 0;
        return _ =>
        {
            var evaluator = Interlocked.Increment(ref index);
            if (!options.ReadsWeights)
            {
                return new SimulatedFitness(options, SimulationStats.Shared, evaluator);
            }
            var scorer = new SimulatedScorer(options, SimulationStats.Shared, evaluator);
            return settings.Mode == Actors.Run.FitnessMode.Individual
                ? new IndividualFitness(scorer)
                : FitnessFactory.Merged(settings, scorer, new FixedMemberStatistics(Tensors.Merging.MergeInputs.None));
        };
    }
}
