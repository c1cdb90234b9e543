using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Host.Bench;

/// <summary>A population of random models with a zoo manifest, for the service benchmarks (task <c>simulated</c>).</summary>
internal static class SyntheticZoo
{
    public static string Write(string directory, int members, long parameters)
    {
        for (var k = 0; k < members; k++)
        {
            using var weights = OpsBenchmark.SyntheticModel(parameters, seed: 1000 + k);
            Checkpoint.Save(Path.Combine(directory, ModelPath(k)), weights);
        }
        return WriteManifest(directory, members);
    }

    /// <summary>Where member <paramref name="k"/>'s checkpoint goes, relative to the zoo.</summary>
    public static string ModelPath(int k) => Path.Combine("models", $"model-{k}");

    /// <summary>The zoo manifest of <paramref name="members"/> checkpoints written at <see cref="ModelPath"/>.</summary>
    public static string WriteManifest(string directory, int members)
    {
        var models = Enumerable.Range(0, members).Select(k => new ZooModel($"model-{k}", ModelPath(k), 0, 0, 0, null, "synthetic")).ToList();
        var none = new SplitScores(0, 0, 0);
        new ZooManifest("synthetic", Run.SimulationSettings.Task, "none", "none", 0, "none", new Dictionary<string, System.Text.Json.JsonElement>(),
            models, none, none, 0).Save(directory);
        return directory;
    }

    /// <summary>A run config for a simulated population.</summary>
    public static string Config(string path, string zoo, string schedule, int evaluators, long evaluations, string scoring, double medianMs,
        string extra = "")
    {
        File.WriteAllText(path, $$"""
            evolver.run {
              task = {{Run.SimulationSettings.Task}}
              population.zoo = "{{zoo}}"
              fitness.mode = individual
              schedule = {{schedule}}
              breeding { operator = evolver, f = 0.5, cr = 0.5, seed = 1, queue = {{Math.Max(2, evaluators)}} }
              evaluators.devices = [{{string.Join(", ", Enumerable.Repeat("cpu", evaluators))}}]
              budget.max-evaluations = {{evaluations}}
              simulation { median-ms = {{medianMs.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, sigma = 0.5, scoring = {{scoring}} }
              {{extra}}
            }
            """);
        return path;
    }
}
