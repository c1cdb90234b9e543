using System.Globalization;
using System.Text.Json;

namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// The Hugging Face index of a sharded checkpoint, <c>model.safetensors.index.json</c>:
/// <c>{"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}</c>.
/// </summary>
internal sealed class ShardIndex
{
    public const string FileName = "model.safetensors.index.json";

    private ShardIndex(string path, IReadOnlyDictionary<string, string> weightMap, IReadOnlyList<string> shards)
    {
        Path = path;
        WeightMap = weightMap;
        Shards = shards;
    }

    public string Path { get; }

    /// <summary>Tensor name → shard file name (in the index's directory).</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>The distinct shard file names, sorted.</summary>
    public IReadOnlyList<string> Shards { get; }

    /// <summary>The shard names transformers and huggingface_hub use: model-00001-of-00003.safetensors.</summary>
    public static string ShardFileName(int index, int count) =>
        string.Create(CultureInfo.InvariantCulture, $"model-{index:D5}-of-{count:D5}.safetensors");

    public static bool IsShardFileName(string name) =>
        name.Length == "model-00001-of-00001.safetensors".Length
        && name.StartsWith("model-", StringComparison.Ordinal)
        && name.EndsWith(".safetensors", StringComparison.Ordinal)
        && name.AsSpan(11, 4).SequenceEqual("-of-");

    public static ShardIndex Read(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"index is not valid JSON ({e.Message.ReplaceLineEndings(" ")})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(path, "index has no \"weight_map\" object");
            }
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw new CheckpointFormatException(path, $"weight_map entry of tensor '{entry.Name}' is not a file name string");
                }
                var shard = entry.Value.GetString()!;
                // Shards live next to the index; a path here could read files anywhere.
                if (shard.Length == 0 || shard != System.IO.Path.GetFileName(shard) || shard is "." or "..")
                {
                    throw new CheckpointFormatException(path, $"weight_map entry of tensor '{entry.Name}' names '{shard}', not a file name in the index's directory");
                }
                if (!weightMap.TryAdd(entry.Name, shard))
                {
                    throw new CheckpointFormatException(path, $"duplicate tensor name '{entry.Name}' in weight_map");
                }
            }
            var shards = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            return new ShardIndex(path, weightMap, shards);
        }
    }

    /// <summary>Writes the index as transformers does (json.dumps(indent=2, sort_keys=True) + newline).</summary>
    public static void Write(string path, long totalSize, IReadOnlyDictionary<string, string> weightMap)
    {
        RawFile.WriteAtomically(path, stream =>
        {
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
            {
                json.WriteStartObject();
                json.WriteStartObject("metadata");
                json.WriteNumber("total_size", totalSize);
                json.WriteEndObject();
                json.WriteStartObject("weight_map");
                foreach (var (name, shard) in weightMap.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    json.WriteString(name, shard);
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        });
    }
}
