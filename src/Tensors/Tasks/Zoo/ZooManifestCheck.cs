using System.Text.Json;

namespace EvolverActors.Tensors.Zoo;

/// <summary>
/// Checks a manifest.json against what <see cref="ZooManifest"/> needs before it is deserialized, so that a
/// hand-written manifest with a missing field, a wrong type or no models gets one line naming the file and the
/// field (<c>models[1].dev</c>) instead of a null deep inside the table or the run.
/// </summary>
internal sealed class ZooManifestCheck(string path)
{
    private enum Kind
    {
        String,
        Number,
        Integer,
        Object,
        Array,
    }

    public static void Validate(JsonElement root, string path) => new ZooManifestCheck(path).Manifest(root);

    private void Manifest(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Fail($"not a zoo manifest: the top level is {Describe(root)}, not a JSON object");
        }
        foreach (var name in new[] { "recipe", "task", "family", "metric", "base" })
        {
            Require(root, name, name, Kind.String);
        }
        Require(root, "seed", "seed", Kind.Integer);
        Require(root, "partition", "partition", Kind.Object);
        Require(root, "build_seconds", "build_seconds", Kind.Number);
        Scores(Require(root, "average", "average", Kind.Object), "average");
        Scores(Require(root, "base_scores", "base_scores", Kind.Object), "base_scores");
        var models = Require(root, "models", "models", Kind.Array);
        if (models.GetArrayLength() == 0)
        {
            throw Fail("field 'models' lists no models");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var model in models.EnumerateArray())
        {
            var field = $"models[{i++}]";
            if (model.ValueKind != JsonValueKind.Object)
            {
                throw Fail($"field '{field}' must be a JSON object, not {Describe(model)}");
            }
            var name = Require(model, "name", $"{field}.name", Kind.String).GetString()!;
            if (!names.Add(name))
            {
                throw Fail($"field '{field}.name': model '{name}' is listed twice");
            }
            if (Require(model, "path", $"{field}.path", Kind.String).GetString()!.Length == 0)
            {
                throw Fail($"field '{field}.path' is empty");
            }
            Require(model, "data", $"{field}.data", Kind.String);
            foreach (var score in new[] { "dev", "test", "ood" })
            {
                Require(model, score, $"{field}.{score}", Kind.Number);
            }
            Optional(model, "own", $"{field}.own", Kind.Number);
            Optional(model, "fisher", $"{field}.fisher", Kind.String);
            Optional(model, "gram", $"{field}.gram", Kind.String);
        }
    }

    private void Scores(JsonElement scores, string field)
    {
        foreach (var score in new[] { "dev", "test", "ood" })
        {
            Require(scores, score, $"{field}.{score}", Kind.Number);
        }
    }

    private JsonElement Require(JsonElement parent, string name, string field, Kind kind)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            throw Fail($"field '{field}' is missing");
        }
        return Typed(value, field, kind);
    }

    private void Optional(JsonElement parent, string name, string field, Kind kind)
    {
        if (parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            Typed(value, field, kind);
        }
    }

    private JsonElement Typed(JsonElement value, string field, Kind kind)
    {
        var ok = kind switch
        {
            Kind.String => value.ValueKind == JsonValueKind.String,
            Kind.Number => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number),
            Kind.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _),
            Kind.Object => value.ValueKind == JsonValueKind.Object,
            _ => value.ValueKind == JsonValueKind.Array,
        };
        if (!ok)
        {
            var wanted = kind switch
            {
                Kind.String => "a string",
                Kind.Number => "a number",
                Kind.Integer => "a whole number",
                Kind.Object => "a JSON object",
                _ => "a list",
            };
            throw Fail($"field '{field}' must be {wanted}, not {Describe(value)}");
        }
        return value;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Clip(value.GetString()!)}\"",
        JsonValueKind.Number => $"the number {Clip(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "a JSON object",
        _ => "null",
    };

    private static string Clip(string text) => (text.Length <= 40 ? text : text[..40] + "…").ReplaceLineEndings(" ");

    private EvolverException Fail(string problem) => new($"{path}: {problem}");
}
