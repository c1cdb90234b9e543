using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Training;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver merge --method NAME [--param k=v ...] [--base PATH] [--fisher PATH ...] [--gram PATH ...] --out DIR MODEL...</c>:
/// writes a Hugging Face safetensors checkpoint, tensor by tensor (memory stays at a few tensors whatever the models'
/// size), with the first model's config and tokenizer files, and a manifest of what was merged how.
/// </summary>
internal static class MergeCommand
{
    public const string ManifestFileName = "merge-manifest.json";

    public static Command Create()
    {
        var models = new Argument<string[]>("models") { Description = "checkpoints to merge (files, directories or index files)", Arity = ArgumentArity.OneOrMore };
        var method = new Option<string>("--method", "-m") { Description = $"merge method: {string.Join(", ", MergeRegistry.Names)}", Required = true };
        var parameters = new Option<string[]>("--param", "-p") { Description = "method parameter as key=value (repeatable), e.g. lambda=0.7" };
        var baseModel = new Option<string?>("--base") { Description = "base (pre-trained) checkpoint, needed by task-arithmetic, ties and dare" };
        var fisher = new Option<string[]>("--fisher") { Description = "Fisher statistics per model (fisher.safetensors from 'evolver stats' or a zoo), in model order (repeat the option; fisher)" };
        var grams = new Option<string[]>("--gram") { Description = "Gram statistics per model (gram.safetensors from 'evolver stats' or a zoo), in model order (repeat the option; regmean)" };
        var exclude = new Option<string?>("--exclude") { Description = "regex of parameter names not merged (copied from the first model), e.g. '^classifier'" };
        var dtype = new Option<string?>("--dtype") { Description = "output dtype for floating tensors: f32, f16 or bf16 (default: the models')" };
        var maxShard = new Option<string>("--max-shard-size") { Description = "shard the output above this size, e.g. 5GB", DefaultValueFactory = _ => "5GB" };
        var output = new Option<string>("--out", "-o") { Description = "output directory", Required = true };

        var command = new Command("merge", "merge checkpoints of one architecture into one safetensors checkpoint");
        command.Arguments.Add(models);
        foreach (var option in new Option[] { method, parameters, baseModel, fisher, grams, exclude, dtype, maxShard, output })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var request = new MergeRequest(
                result.GetValue(method)!,
                result.GetValue(parameters) ?? [],
                result.GetValue(models) ?? [],
                result.GetValue(baseModel),
                result.GetValue(fisher) ?? [],
                result.GetValue(grams) ?? [],
                result.GetValue(exclude),
                result.GetValue(dtype),
                ByteSize.Parse(result.GetValue(maxShard)!, "--max-shard-size"),
                result.GetValue(output)!);
            var manifest = Run(request);
            Console.WriteLine($"merged {request.Models.Count} models with '{request.Method}' into {request.Output} " +
                $"({manifest["output"]!["files"]!.AsArray().Count} file(s), {manifest["output"]!["parameters"]} parameters)");
            return 0;
        }));
        return command;
    }

    internal sealed record MergeRequest(string Method, IReadOnlyList<string> Parameters, IReadOnlyList<string> Models,
        string? Base, IReadOnlyList<string> Fisher, IReadOnlyList<string> Grams, string? Exclude, string? DType,
        long MaxShardBytes, string Output);

    /// <summary>
    /// Checks everything that can be checked before writing (headers, options, the statistics files), then merges
    /// tensor by tensor (<see cref="CheckpointMerge"/>: peak memory is one tensor per input, whatever the models'
    /// size), copies the first model's config and tokenizer files (<see cref="CheckpointCompanions"/>) and writes the
    /// manifest.
    /// </summary>
    internal static JsonObject Run(MergeRequest request)
    {
        var mergeMethod = MergeRegistry.Get(request.Method, request.Parameters);
        if (request.Models.Count < 2)
        {
            throw new EvolverException($"merge needs at least two models, got {request.Models.Count}");
        }
        RequireOnePerModel(request.Fisher, "--fisher", request.Models.Count);
        RequireOnePerModel(request.Grams, "--gram", request.Models.Count);
        var outputType = request.DType is null ? (TorchSharp.torch.ScalarType?)null : DTypes.ParseUserName(request.DType);
        var exclude = ParseRegex(request.Exclude);
        string[] checkpoints = [.. request.Models, .. request.Base is null ? Array.Empty<string>() : [request.Base]];
        Checkpoint.RequireSameLayout(checkpoints);
        foreach (var path in checkpoints)
        {
            StatisticsFiles.RequireModel(path);
        }
        RequireOutputApart(request.Output, [.. checkpoints, .. request.Fisher, .. request.Grams]);
        var layout = Checkpoint.ReadLayout(request.Models[0]);
        foreach (var path in request.Fisher)
        {
            StatisticsFiles.Validate(path, StatisticsKind.Fisher, layout);
        }
        foreach (var path in request.Grams)
        {
            StatisticsFiles.Validate(path, StatisticsKind.Gram, layout);
        }
        // A method that needs a base fails here, before anything is written.
        mergeMethod.Begin(request.Base is not null, TorchSharp.torch.CPU).Dispose();

        var merge = new CheckpointMergeRequest(mergeMethod, request.Models)
        {
            Base = request.Base,
            Fisher = request.Fisher,
            Grams = request.Grams,
            Exclude = exclude,
            OutputType = outputType,
            MaxShardBytes = request.MaxShardBytes,
            Metadata = new Dictionary<string, string> { ["format"] = "pt", ["merged_by"] = "evolver", ["merge_method"] = mergeMethod.Name },
        };
        // Tensors are allocated and freed one after another: have the C heap give each one back when freed.
        NativeHeap.ReturnLargeBlocksOnFree();
        var result = CheckpointMerge.Run(merge, request.Output);
        var companions = CheckpointCompanions.CopyInto(request.Models[0], request.Output);
        var manifest = Manifest(request, mergeMethod, result, companions);
        File.WriteAllText(Path.Combine(request.Output, ManifestFileName), manifest.ToJsonString(new() { WriteIndented = true }) + "\n");
        return manifest;
    }

    private static JsonObject Manifest(MergeRequest request, IMergeMethod method, CheckpointMergeResult result, IReadOnlyList<string> companions)
    {
        static JsonArray Paths(IEnumerable<string> paths) => [.. paths.Select(p => (JsonNode)Path.GetFullPath(p))];
        static JsonArray Names(IEnumerable<string> paths) => [.. paths.Select(p => (JsonNode)Path.GetFileName(p))];
        return new JsonObject
        {
            ["tool"] = "evolver merge",
            ["created_utc"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["method"] = method.Name,
            ["parameters"] = new JsonObject(MergeParameters.ParseKeyValues(request.Parameters)
                .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["base"] = request.Base is null ? null : Path.GetFullPath(request.Base),
            ["models"] = Paths(request.Models),
            ["fisher"] = Paths(request.Fisher),
            ["grams"] = Paths(request.Grams),
            ["exclude"] = request.Exclude,
            ["output"] = new JsonObject
            {
                ["files"] = Names(result.Files),
                ["tensors"] = result.Layout.Specs.Count,
                ["parameters"] = result.Layout.ParameterCount,
                ["dtypes"] = new JsonArray([.. result.Layout.Specs.Select(s => DTypes.ToCode(s.DType)).Distinct().Select(d => (JsonNode)d)]),
                ["copied"] = Names(companions),
            },
        };
    }

    private static void RequireOnePerModel(IReadOnlyList<string> paths, string option, int models)
    {
        if (paths.Count != 0 && paths.Count != models)
        {
            throw new EvolverException($"{option} was given {paths.Count} times for {models} models: give one per model, in model order");
        }
    }

    /// <summary>
    /// Refuses an output directory that holds one of the inputs as a checkpoint directory or under a file name that
    /// saving writes (model.safetensors, the index, model-*-of-*.safetensors): the merge would replace it.
    /// </summary>
    private static void RequireOutputApart(string output, IEnumerable<string> inputs)
    {
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        foreach (var input in inputs)
        {
            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(input));
            var name = Path.GetFileName(full);
            var overwritten = Directory.Exists(full)
                ? full == target
                : Path.GetDirectoryName(full) == target
                    && (name == Checkpoint.SingleFileName || name == Checkpoint.IndexFileName || Regex.IsMatch(name, @"^model-\d+-of-\d+\.safetensors$", RegexOptions.CultureInvariant));
            if (overwritten)
            {
                throw new EvolverException($"--out {output}: holds the input {input}; the merge would overwrite it: choose another directory");
            }
        }
    }

    private static Regex? ParseRegex(string? pattern)
    {
        if (pattern is null)
        {
            return null;
        }
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new EvolverException($"--exclude '{pattern}' is not a valid regular expression: {e.Message}");
        }
    }
}
