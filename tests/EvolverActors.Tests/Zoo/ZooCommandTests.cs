using System.Text.Json.Nodes;
using EvolverActors.Host.Commands;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Zoo;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Zoo;

/// <summary>
/// <c>evolver zoo show</c> on hand-written manifests (every wrong field is one line naming the file and the field) and
/// <c>evolver zoo build</c> over an existing zoo (refused unless --force). No data needed.
/// </summary>
public sealed class ZooCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonObject Valid() => JsonNode.Parse("""
        {
          "recipe": "hand-made", "task": "mnist-noniid", "family": "cnn", "metric": "accuracy", "seed": 0, "base": "base",
          "partition": {},
          "models": [
            { "name": "m0", "path": "models/m0", "dev": 0.5, "test": 0.4, "ood": 0.3, "own": null, "data": "digits 0-4" },
            { "name": "m1", "path": "models/m1", "dev": 0.6, "test": 0.5, "ood": 0.2, "data": "digits 5-9", "fisher": "models/m1/fisher.safetensors" }
          ],
          "average": { "dev": 0.55, "test": 0.45, "ood": 0.25 },
          "base_scores": { "dev": 0.1, "test": 0.1, "ood": 0.1 },
          "build_seconds": 1.5
        }
        """)!.AsObject();

    private string Zoo(string text)
    {
        var zoo = _dir.File("zoo");
        Directory.CreateDirectory(zoo);
        File.WriteAllText(Path.Combine(zoo, ZooManifest.FileName), text);
        return zoo;
    }

    [Fact]
    public void A_hand_written_manifest_shows_its_table_from_the_directory_or_the_file()
    {
        var zoo = Zoo(Valid().ToJsonString());

        var (code, output, error) = CliRunner.Run("zoo", "show", zoo);
        Assert.True(code == 0, error);
        Assert.Contains("| m1 ", output, StringComparison.Ordinal);
        Assert.Contains("0.6000", output, StringComparison.Ordinal);

        (code, var again, error) = CliRunner.Run("zoo", "show", Path.Combine(zoo, ZooManifest.FileName));
        Assert.True(code == 0, error);
        Assert.Equal(output, again);
    }

    [Theory]
    [InlineData("remove models", "field 'models' is missing")]
    [InlineData("models []", "field 'models' lists no models")]
    [InlineData("models[0].dev \"high\"", "field 'models[0].dev' must be a number, not the string \"high\"")]
    [InlineData("remove models[1].path", "field 'models[1].path' is missing")]
    [InlineData("models[1].name \"m0\"", "field 'models[1].name': model 'm0' is listed twice")]
    [InlineData("models[0].own \"best\"", "field 'models[0].own' must be a number, not the string \"best\"")]
    [InlineData("models[1].fisher 7", "field 'models[1].fisher' must be a string, not the number 7")]
    [InlineData("models[0] \"m0\"", "field 'models[0]' must be a JSON object, not the string \"m0\"")]
    [InlineData("models {}", "field 'models' must be a list, not a JSON object")]
    [InlineData("seed \"zero\"", "field 'seed' must be a whole number, not the string \"zero\"")]
    [InlineData("seed 1.5", "field 'seed' must be a whole number, not the number 1.5")]
    [InlineData("recipe null", "field 'recipe' must be a string, not null")]
    [InlineData("average 3", "field 'average' must be a JSON object, not the number 3")]
    [InlineData("remove base_scores.ood", "field 'base_scores.ood' is missing")]
    [InlineData("remove partition", "field 'partition' is missing")]
    public void A_wrong_field_is_one_line_naming_the_file_and_the_field(string change, string expected)
    {
        var manifest = Valid();
        Apply(manifest, change);
        var zoo = Zoo(manifest.ToJsonString());

        var (code, output, error) = CliRunner.Run("zoo", "show", zoo);

        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: {Path.Combine(zoo, ZooManifest.FileName)}: {expected}", error.TrimEnd());
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("{ \"recipe\": ", "not valid JSON")]
    [InlineData("[1, 2]", "not a zoo manifest: the top level is a list, not a JSON object")]
    [InlineData("", "not valid JSON")]
    public void A_manifest_that_is_not_a_json_object_is_one_line(string text, string expected)
    {
        var zoo = Zoo(text);

        var (code, _, error) = CliRunner.Run("zoo", "show", zoo);

        Assert.Equal(Cli.UserError, code);
        Assert.StartsWith($"error: {Path.Combine(zoo, ZooManifest.FileName)}: {expected}", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void A_directory_without_a_manifest_is_named()
    {
        var (code, _, error) = CliRunner.Run("zoo", "show", _dir.Path);

        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: {Path.Combine(_dir.Path, ZooManifest.FileName)}: no zoo manifest here (build one with 'evolver zoo build')", error.TrimEnd());
    }

    [Fact]
    public void Building_over_an_existing_zoo_is_refused_without_force_and_nothing_is_touched()
    {
        var zoo = Zoo(Valid().ToJsonString());
        var manifest = Path.Combine(zoo, ZooManifest.FileName);
        var before = File.ReadAllText(manifest);

        var (code, _, error) = CliRunner.Run("zoo", "build", "--recipe", "mnist-noniid", "--out", zoo);

        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: --out {zoo}: already holds a zoo (manifest.json); give --force to replace it", error.TrimEnd());
        Assert.Equal(before, File.ReadAllText(manifest));
        Assert.Equal([manifest], Directory.GetFileSystemEntries(zoo));
    }

    [Fact]
    public void Force_clears_the_old_manifest_first_and_a_new_directory_needs_nothing()
    {
        var zoo = Zoo(Valid().ToJsonString());

        ZooCommand.ClearForBuild(_dir.File("new"), "--out", force: false);
        ZooCommand.ClearForBuild(zoo, "--out", force: true);

        Assert.False(File.Exists(Path.Combine(zoo, ZooManifest.FileName)), "a build that fails part-way leaves no old manifest over new models");
        var file = _dir.Write("file", [1]);
        var error = Assert.Throws<EvolverException>(() => ZooCommand.ClearForBuild(file, "--out", force: true));
        Assert.Equal($"--out {file}: is a file, not a directory", error.Message);
    }

    /// <summary>"remove a.b", or "a.b VALUE" with VALUE in JSON; a path is dot-separated with [i] for list items.</summary>
    private static void Apply(JsonObject manifest, string change)
    {
        var remove = change.StartsWith("remove ", StringComparison.Ordinal);
        var (path, value) = remove ? (change["remove ".Length..], null) : (change[..change.IndexOf(' ', StringComparison.Ordinal)], change[(change.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        JsonNode parent = manifest;
        var steps = path.Replace("[", ".[", StringComparison.Ordinal).Split('.');
        foreach (var step in steps[..^1])
        {
            parent = step.StartsWith('[') ? parent[int.Parse(step[1..^1], System.Globalization.CultureInfo.InvariantCulture)]! : parent[step]!;
        }
        var last = steps[^1];
        if (last.StartsWith('['))
        {
            parent.AsArray()[int.Parse(last[1..^1], System.Globalization.CultureInfo.InvariantCulture)] = JsonNode.Parse(value!);
        }
        else if (remove)
        {
            parent.AsObject().Remove(last);
        }
        else
        {
            parent[last] = JsonNode.Parse(value!);
        }
    }
}
