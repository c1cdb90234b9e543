using System.CommandLine;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver zoo build --recipe NAME [--out DIR] [--seed N] [--quick] [--force]</c> and <c>evolver zoo show DIR</c>.</summary>
internal static class ZooCommand
{
    /// <summary>The task kinds that have a zoo recipe, from the task registry.</summary>
    public static IReadOnlyList<string> Recipes => TaskRegistry.RecipeNames;

    /// <summary>Where a zoo goes when --out is not given (relative to the working directory, outside git).</summary>
    public static string DefaultDirectory(string recipe, int seed, bool quick) =>
        Path.Combine(".evolver", "zoo", quick ? recipe + "-quick" : recipe, $"seed-{seed}");

    public static Command Create()
    {
        var zoo = new Command("zoo", "build or show a population of fine-tuned models on real data");
        zoo.Subcommands.Add(Build());
        zoo.Subcommands.Add(Show());
        return zoo;
    }

    private static Command Build()
    {
        var recipe = new Option<string>("--recipe", "-r") { Description = $"which zoo: {string.Join(", ", Recipes)}", Required = true };
        var output = new Option<string?>("--out", "-o") { Description = "output directory (default .evolver/zoo/<recipe>/seed-<N>)" };
        var seed = new Option<int>("--seed") { Description = "random seed (data split, partition, training)", DefaultValueFactory = _ => 0 };
        var quick = new Option<bool>("--quick") { Description = "a small size that runs on 2 CPU cores in minutes (sentiment-minilm)" };
        var taskFile = new Option<string?>("--task-config") { Description = "HOCON task file: evolver.task { kind = <recipe>, ... } (default config/hocon/tasks/<recipe>.conf)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "asset cache (default $EVOLVER_DATA or ~/.cache/evolver)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var force = new Option<bool>("--force") { Description = "replace a zoo already in the output directory" };
        var command = new Command("build", "fetch the data, train a base and fine-tune the population, score every model, write manifest.json");
        foreach (var option in new Option[] { recipe, output, seed, quick, taskFile, dataDir, device, force })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var name = result.GetValue(recipe)!;
            var s = result.GetValue(seed);
            var q = result.GetValue(quick);
            var directory = result.GetValue(output) ?? DefaultDirectory(name, s, q);
            var d = DeviceNames.Parse(result.GetValue(device)!, "--device");
            ClearForBuild(directory, result.GetValue(output) is null ? "the zoo directory" : "--out", result.GetValue(force));
            BuildZoo(name, directory, s, q, result.GetValue(taskFile), result.GetValue(dataDir), d, Console.Out);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Refuses to build over an existing zoo (a manifest.json in <paramref name="directory"/>) unless
    /// <paramref name="force"/>; with it, the old manifest goes first, so that a build that fails part-way leaves no
    /// manifest describing a mix of old and new models.
    /// </summary>
    internal static void ClearForBuild(string directory, string what, bool force)
    {
        var manifest = Path.Combine(directory, ZooManifest.FileName);
        if (File.Exists(manifest))
        {
            if (!force)
            {
                throw new EvolverException($"{what} {directory}: already holds a zoo ({ZooManifest.FileName}); give --force to replace it");
            }
            File.Delete(manifest);
        }
        else if (File.Exists(directory))
        {
            throw new EvolverException($"{what} {directory}: is a file, not a directory");
        }
    }

    /// <summary>Builds a zoo, prints and saves its table (table.md next to manifest.json).</summary>
    internal static ZooManifest BuildZoo(string recipe, string output, int seed, bool quick, string? taskFile, string? dataDir,
        TorchSharp.torch.Device device, TextWriter log)
    {
        var store = dataDir is null ? AssetStore.Default : new AssetStore(dataDir);
        var builder = TaskRegistry.Recipe(recipe);
        var task = TaskConfigs.Load(taskFile ?? recipe, quick, preferred: recipe);
        if (task.Kind != recipe)
        {
            throw new EvolverException($"{taskFile ?? recipe}: is a '{task.Kind}' task, not a '{recipe}' one");
        }
        var manifest = builder.Build(task, new ZooBuildContext(output, seed, store, device, log.WriteLine));
        var table = manifest.Table();
        File.WriteAllText(Path.Combine(output, "table.md"), table);
        log.WriteLine(table);
        log.WriteLine($"zoo written to {Path.GetFullPath(output)} in {manifest.BuildSeconds:F0} s");
        if (manifest.TaskFile is { } file)
        {
            log.WriteLine($"its dev / test / ood splits are in {Path.GetFullPath(Path.Combine(output, ZooDataExport.DataDirectory))}, as a task in {Path.GetFullPath(Path.Combine(output, file))}");
        }
        return manifest;
    }

    private static Command Show()
    {
        var directory = new Argument<string>("dir") { Description = "a zoo directory (holding manifest.json)" };
        var command = new Command("show", "print a zoo's table from its manifest.json");
        command.Arguments.Add(directory);
        command.SetAction(result => Cli.Guard(() =>
        {
            var path = result.GetValue(directory)!;
            // The manifest itself is accepted too: `zoo show DIR/manifest.json`.
            var zoo = File.Exists(path) && Path.GetFileName(path) == ZooManifest.FileName ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
            Console.Write(ZooManifest.Load(zoo).Table());
            return 0;
        }));
        return command;
    }
}
