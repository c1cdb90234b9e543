using System.Text.Json;
using EvolverActors.Tensors.Checkpoints;

namespace EvolverActors.Tensors.Tasks;

/// <summary>
/// What the data-driven kinds learn from the first population member without loading its weights: its directory
/// (config.json, vocab.txt, tokenizer_config.json), the shape of a tensor from the checkpoint headers, and values of
/// its JSON configs.
/// </summary>
internal static class FirstMember
{
    /// <summary>The member's directory (a checkpoint given as a .safetensors file: the file's directory); null without a member.</summary>
    public static string? Directory(string? member) =>
        member is null ? null : System.IO.Directory.Exists(member) ? member : Path.GetDirectoryName(Path.GetFullPath(member));

    /// <summary>The shape of tensor <paramref name="name"/> in the member's checkpoint; null without a member or without that tensor.</summary>
    public static long[]? Shape(string? member, string name)
    {
        if (member is null)
        {
            return null;
        }
        var specs = Checkpoint.ReadLayout(member).Specs;
        return specs.FirstOrDefault(s => s.Name == name)?.Shape;
    }

    /// <summary>The number of classes of the member's head (rows of <c>classifier.weight</c>); null without a member.</summary>
    public static int? HeadClasses(string? member) =>
        Shape(member, "classifier.weight") is { Length: 2 } shape ? (int)shape[0] : null;

    /// <summary>
    /// A top-level value of the first of <paramref name="files"/> (in <paramref name="directory"/>) that has
    /// <paramref name="key"/>; null when none has it.
    /// </summary>
    public static JsonElement? JsonValue(string? directory, string key, params string[] files)
    {
        if (directory is null)
        {
            return null;
        }
        foreach (var file in files.Select(f => Path.Combine(directory, f)).Where(File.Exists))
        {
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllText(file));
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(key, out var value))
                {
                    return value.Clone();
                }
            }
            catch (JsonException e)
            {
                throw new EvolverException($"{file}: not valid JSON ({e.Message.Split('\n')[0]})");
            }
        }
        return null;
    }

    /// <summary>Checks the member's head against the task's class count, when both are known.</summary>
    public static void RequireHead(string? member, int classes, IReadOnlyList<string> classNames)
    {
        if (HeadClasses(member) is { } head && head != classes)
        {
            throw new EvolverException(
                $"{member}: the model's classifier.weight has {head} rows, but the task has {classes} classes [{string.Join(", ", classNames)}]");
        }
    }
}
