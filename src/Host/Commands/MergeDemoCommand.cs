using System.CommandLine;
using System.Globalization;
using EvolverActors.Host.Demo;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver demo merges</c>: the end-to-end example of the tensor core. Writes a small population of safetensors
/// checkpoints, inspects one, merges it with every merge method through the same code as <c>evolver merge</c>,
/// breeds one Evolver offspring, and prints how much of each member's task vector each result keeps.
/// </summary>
internal static class MergeDemoCommand
{
    public static Command Create()
    {
        var directory = new Option<string>("--dir") { Description = "where to write the population and results", DefaultValueFactory = _ => Path.Combine(".evolver", "demo") };
        var members = new Option<int>("--members") { Description = "population size", DefaultValueFactory = _ => 4 };
        var seed = new Option<ulong>("--seed") { Description = "random seed for the population and the offspring", DefaultValueFactory = _ => 1 };
        var command = new Command("merges", "build a small synthetic population, inspect it, merge it with every method, breed one offspring");
        command.Options.Add(directory);
        command.Options.Add(members);
        command.Options.Add(seed);
        command.SetAction(result => Cli.Guard(() => Run(result.GetValue(directory)!, result.GetValue(members), result.GetValue(seed), Console.Out)));
        return command;
    }

    internal static int Run(string directory, int memberCount, ulong seed, TextWriter output)
    {
        if (memberCount < 2)
        {
            throw new Tensors.EvolverException($"--members must be at least 2, got {memberCount}");
        }
        output.WriteLine($"1. population: base + {memberCount} members with their own sparse task vectors, under {directory}");
        var paths = DemoPopulation.Create(Path.Combine(directory, "population"), memberCount, seed);

        output.WriteLine($"2. evolver inspect {paths.Members[0]}");
        InspectCommand.WriteTable(output, CheckpointInspector.Inspect(paths.Members[0]));

        output.WriteLine("3. evolver merge with every method; 'keeps' = cosine between the result's and each member's task vector");
        using var baseWeights = Checkpoint.Load(paths.Base);
        var members = paths.Members.Select(p => Checkpoint.Load(p)).ToList();
        try
        {
            var rows = new List<string[]>();
            foreach (var method in MergeRegistry.Names)
            {
                var outputDir = Path.Combine(directory, "merged", method);
                MergeCommand.Run(new MergeCommand.MergeRequest(method, [], paths.Members, paths.Base,
                    method == "fisher" ? paths.Fisher : [], method == "regmean" ? paths.Grams : [], null, null, long.MaxValue, outputDir));
                using var merged = Checkpoint.Load(outputDir);
                rows.Add(Row(method, merged, baseWeights, members));
            }

            output.WriteLine("4. one Evolver offspring: target member-0, reference member-1, F 0.5, CR 0.5, binomial, element-wise");
            var recipe = new OffspringRecipe(0, [1], "evolver", new BreedingSettings(), seed);
            using var child = members[0].EmptyLike();
            recipe.BuildInto(child, OperatorRegistry.Get("evolver"), members);
            Checkpoint.Save(Path.Combine(directory, "offspring"), child);
            rows.Add(Row("evolver offspring", child, baseWeights, members));

            PrintTable(output, memberCount, rows);
            output.WriteLine($"results: {Path.Combine(directory, "merged")}/<method>/ (safetensors + {MergeCommand.ManifestFileName}), {Path.Combine(directory, "offspring")}/");
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }
        return 0;
    }

    private static string[] Row(string name, WeightSet result, WeightSet baseWeights, IReadOnlyList<WeightSet> members)
    {
        using var scope = NewDisposeScope();
        var delta = TaskVector(result, baseWeights);
        var cosines = members.Select(m => CosineSimilarity(delta, TaskVector(m, baseWeights))).ToList();
        return [name, .. cosines.Select(Format), Format(cosines.Average()), Format(delta.norm().item<float>())];
    }

    private static Tensor TaskVector(WeightSet model, WeightSet baseWeights) =>
        cat([.. model.Entries().Where(e => DTypes.IsFloating(e.Tensor.dtype)).Select(e => (e.Tensor - baseWeights[e.Name]).flatten())]);

    private static double CosineSimilarity(Tensor a, Tensor b) =>
        (a.dot(b) / (a.norm() * b.norm()).clamp_min(1e-12)).item<float>();

    private static string Format(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private static void PrintTable(TextWriter output, int memberCount, List<string[]> rows)
    {
        string[] header = ["result", .. Enumerable.Range(0, memberCount).Select(k => $"keeps m{k}"), "mean", "|result-base|"];
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
        output.WriteLine(Line(header));
        rows.ForEach(r => output.WriteLine(Line(r)));
    }
}
