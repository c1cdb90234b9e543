using System.Text.Json;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Zoo;
using EvolverActors.Tests.Checkpoints;
using EvolverActors.Tests.Storage;
using Xunit;

namespace EvolverActors.Tests.Commands;

/// <summary>
/// <c>evolver export</c>: the output never overwrites a non-empty directory without --force, nor the run's zoo, members
/// or run directory even with it. On a hand-made zoo and run; no data needed.
/// </summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Zoo => _dir.File("zoo");

    /// <summary>Two tiny members, a base and a manifest, under <see cref="Zoo"/>.</summary>
    private void MakeZoo()
    {
        for (var k = 0; k < 2; k++)
        {
            using var member = StorageFixtures.Tiny(k + 1);
            Checkpoint.Save(Path.Combine(Zoo, "models", $"m{k}"), member);
        }
        using (var baseWeights = StorageFixtures.Tiny(9))
        {
            Checkpoint.Save(Path.Combine(Zoo, "base"), baseWeights);
        }
        var scores = new SplitScores(0.5, 0.5, 0.5);
        new ZooManifest("hand-made", "mnist-noniid", "cnn", "accuracy", 0, "base", new Dictionary<string, JsonElement>(),
            [.. Enumerable.Range(0, 2).Select(k => new ZooModel($"m{k}", Path.Combine("models", $"m{k}"), 0.5, 0.5, 0.5, null, "hand"))],
            scores, scores, 0).Save(Zoo);
    }

    /// <summary>A run created on <see cref="Zoo"/>: run.json as `evolver run` writes it, and run.conf naming the zoo as <paramref name="configured"/>.</summary>
    private RunDirectory MakeRun(string runsRoot, string configured, string? workingDirectory, bool recordWorkingDirectory = true)
    {
        var run = RunDirectory.Open(runsRoot, "r");
        Directory.CreateDirectory(run.Root);
        var members = Enumerable.Range(0, 2)
            .Select(k => new MemberFingerprint(k, $"m{k}", RunFingerprint.Sha256OfCheckpoint(Path.Combine(Zoo, "models", $"m{k}")))).ToList();
        run.CreateOrVerify(new RunFingerprint("hash", new Dictionary<string, string>(), members, workingDirectory));
        if (!recordWorkingDirectory)
        {
            // As runs created before the working directory was recorded.
            var json = JsonNode.Parse(File.ReadAllText(run.FingerprintPath))!.AsObject();
            json.Remove("working_directory");
            File.WriteAllText(run.FingerprintPath, json.ToJsonString());
        }
        File.WriteAllText(run.ConfigPath, $$"""
            evolver.run {
              task = mnist-noniid
              population.zoo = "{{configured}}"
              fitness { mode = merged, merge-method = average }
              breeding { operator = evolver, f = 0.5, cr = 0.5, seed = 1 }
              budget.max-evaluations = 4
            }
            """);
        return run;
    }

    [Fact]
    public void The_run_zoo_members_base_and_run_directory_are_never_export_targets()
    {
        MakeZoo();
        var run = MakeRun(_dir.File("runs"), Zoo, workingDirectory: _dir.Path);
        var population = RunPopulation.FromZoo(Zoo);

        foreach (var (target, what) in new[]
        {
            (Path.Combine(Zoo, "models", "m1") + "/", "is population member 1 (m1) of run 'r'"),
            (Zoo, "is the zoo directory of run 'r'"),
            (Path.Combine(Zoo, "base"), "is the base model of run 'r'"),
        })
        {
            var error = Assert.Throws<EvolverException>(() => ExportGuard.Require(target, true, population, run));
            Assert.Equal($"--out {target}: {what}; exporting there would overwrite it", error.Message);
        }
        var inside = Assert.Throws<EvolverException>(() => ExportGuard.Require(Path.Combine(run.Root, "out"), true, population, run));
        Assert.Equal($"--out {Path.Combine(run.Root, "out")}: is inside the directory of run 'r' ({run.Root})", inside.Message);
        ExportGuard.Require(_dir.File("fused"), true, population, run);
        ExportGuard.Require(Path.Combine(Zoo, "models"), true, population, run);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Export_into_a_member_is_refused_with_or_without_force_and_the_member_is_kept(bool force)
    {
        MakeZoo();
        MakeRun(_dir.File("runs"), Zoo, workingDirectory: _dir.Path);
        var member = Path.Combine(Zoo, "models", "m0");
        var before = File.ReadAllBytes(Path.Combine(member, Checkpoint.SingleFileName));

        var (code, _, error) = CliRunner.Run(["export", "--run", "r", "--runs", _dir.File("runs"), "--out", member, .. force ? new[] { "--force" } : []]);

        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: --out {member}: is population member 0 (m0) of run 'r'; exporting there would overwrite it", error.TrimEnd());
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(member, Checkpoint.SingleFileName)));
        Assert.Equal([Checkpoint.SingleFileName], Directory.GetFiles(member).Select(Path.GetFileName));
    }

    [Fact]
    public void Export_into_a_non_empty_directory_needs_force()
    {
        MakeZoo();
        MakeRun(_dir.File("runs"), Zoo, workingDirectory: _dir.Path);
        var output = _dir.File("checkpoint");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");

        var (code, _, error) = CliRunner.Run("export", "--run", "r", "--runs", _dir.File("runs"), "--out", output);

        Assert.Equal(Cli.UserError, code);
        Assert.Equal($"error: --out {output}: is not empty; give --force to write into it (files of the same names are replaced)", error.TrimEnd());
        Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "keep.txt")));
        Assert.Single(Directory.GetFileSystemEntries(output));
    }

    [Fact]
    public void Export_shards_by_the_size_given_and_copies_the_first_members_config_and_tokenizer_files()
    {
        MakeZoo();
        var first = Path.Combine(Zoo, "models", "m0");
        foreach (var file in new[] { "config.json", "tokenizer_config.json", "vocab.txt", "notes.md" })
        {
            File.WriteAllText(Path.Combine(first, file), "m0 " + file);
        }
        File.WriteAllText(Path.Combine(Zoo, "models", "m1", "config.json"), "m1 config.json");
        var output = _dir.File("fused");
        var fused = StorageFixtures.Tiny(5);
        using var result = new RunResult(fused, new SplitScores(0.5, 0.5, 0.5), new LedgerReport(new StewardState(), [], [], 0, []),
            RunPopulation.FromZoo(Zoo), "merged", Version: 0);

        var files = ExportCommand.Export(result, "r", output, maxShardBytes: 30);

        // 24 bytes of floats, 32 of longs: a shard each, then the index.
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", Checkpoint.IndexFileName], files.Select(Path.GetFileName));
        using (var back = Checkpoint.Load(output))
        {
            Assert.True(back["layer.weight"].bytes.SequenceEqual(fused["layer.weight"].bytes));
            Assert.True(back["layer.steps"].bytes.SequenceEqual(fused["layer.steps"].bytes));
        }
        Assert.Equal("m0 config.json", File.ReadAllText(Path.Combine(output, "config.json")));
        Assert.Equal("m0 vocab.txt", File.ReadAllText(Path.Combine(output, "vocab.txt")));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer_config.json")));
        Assert.False(File.Exists(Path.Combine(output, "notes.md")));
        Assert.True(File.Exists(Path.Combine(output, "evolver-manifest.json")));
    }

    [Fact]
    public void A_bad_shard_size_is_refused_before_the_run_is_read()
    {
        var (code, _, error) = CliRunner.Run("export", "--run", "none", "--runs", _dir.File("runs"), "--out", _dir.File("fused"), "--max-shard-size", "-5GB");
        Assert.Equal(Cli.UserError, code);
        Assert.Equal("error: --max-shard-size '-5GB' is not a size: use e.g. 5GB, 500MB, 2GiB or a byte count", error.TrimEnd());
    }
}
