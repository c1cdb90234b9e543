using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Storage;

public sealed class RunFingerprintTests : IDisposable
{
    private const string ShaA = "1a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d5e6f7081";
    private const string ShaB = "9f8e7d6c5b4a39289f8e7d6c5b4a39289f8e7d6c5b4a39289f8e7d6c5b4a3928";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static RunFingerprint Fingerprint(string slot2Name = "model-2", string slot2Sha = ShaA, string mode = "merged", int members = 3) =>
        new(
            "c0ffee",
            new Dictionary<string, string> { ["fitness.mode"] = mode, ["breeding.operator"] = "evolver", ["seed"] = "42" },
            [.. Enumerable.Range(0, members).Select(i => i == 2
                ? new MemberFingerprint(2, slot2Name, slot2Sha)
                : new MemberFingerprint(i, $"model-{i}", ShaB))]);

    [Fact]
    public void Open_validates_the_run_id_and_lays_out_the_paths()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        Assert.Equal(Path.Combine(_dir.Path, "demo"), run.Root);
        Assert.Equal(Path.Combine(run.Root, "run.json"), run.FingerprintPath);
        Assert.Equal(Path.Combine(run.Root, "run.conf"), run.ConfigPath);
        Assert.Equal(Path.Combine(run.Root, "journal.db"), run.JournalPath);
        Assert.Equal(Path.Combine(run.Root, "weights"), run.WeightsPath);
        Assert.Equal(Path.Combine(run.Root, "status.json"), run.StatusPath);
        Assert.Equal(Path.Combine(run.Root, "run.lock"), run.LockPath);
        Assert.False(run.Exists);
        Assert.False(Directory.Exists(run.Root));
        Assert.Null(run.ReadFingerprint());
        Assert.Equal(run.WeightsPath, run.Weights.Directory);

        var e = Assert.Throws<EvolverException>(() => RunDirectory.Open(_dir.Path, "../escape"));
        Assert.Contains("run id", e.Message);
    }

    [Fact]
    public void The_first_run_records_the_fingerprint_and_a_resume_verifies_it()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        Assert.True(run.CreateOrVerify(Fingerprint()));
        Assert.True(run.Exists);

        var reopened = RunDirectory.Open(_dir.Path, "demo");
        var recorded = reopened.ReadFingerprint()!;
        Assert.Equal("c0ffee", recorded.ConfigHash);
        Assert.Equal("merged", recorded.Settings["fitness.mode"]);
        Assert.Equal(new MemberFingerprint(2, "model-2", ShaA), recorded.Members[2]);
        Assert.False(reopened.CreateOrVerify(Fingerprint()));
    }

    [Fact]
    public void A_new_run_records_the_working_directory_that_its_relative_paths_are_relative_to()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        run.CreateOrVerify(Fingerprint());
        Assert.Equal(Environment.CurrentDirectory, run.ReadFingerprint()!.WorkingDirectory);

        var given = RunDirectory.Open(_dir.Path, "given");
        given.CreateOrVerify(Fingerprint() with { WorkingDirectory = "/somewhere" });
        Assert.Equal("/somewhere", given.ReadFingerprint()!.WorkingDirectory);
        // It is where the run was made, not what it is: a resume from elsewhere is not refused for it.
        Assert.False(given.CreateOrVerify(Fingerprint()));
    }

    [Fact]
    public void A_different_population_is_refused_naming_the_slot()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        run.CreateOrVerify(Fingerprint());
        var e = Assert.Throws<EvolverException>(() => run.CreateOrVerify(Fingerprint(slot2Name: "model-7", slot2Sha: ShaB)));
        Assert.Equal(
            "run 'demo' belongs to a different population: slot 2 was model-2 (sha 1a2b3c4d5e6f…) and is now model-7 (sha 9f8e7d6c5b4a…)",
            e.Message);
    }

    [Fact]
    public void A_population_of_another_size_is_refused()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        run.CreateOrVerify(Fingerprint());
        var e = Assert.Throws<EvolverException>(() => run.CreateOrVerify(Fingerprint(members: 4)));
        Assert.Equal("run 'demo' belongs to a different population: slot 3 was empty and is now model-3 (sha 9f8e7d6c5b4a…)", e.Message);
    }

    [Fact]
    public void A_moved_member_file_with_the_same_bytes_may_resume()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        run.CreateOrVerify(Fingerprint());
        Assert.False(run.CreateOrVerify(Fingerprint(slot2Name: "renamed-2")));
    }

    [Fact]
    public void A_different_config_is_refused_naming_the_setting()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        run.CreateOrVerify(Fingerprint());
        var e = Assert.Throws<EvolverException>(() => run.CreateOrVerify(Fingerprint(mode: "individual")));
        Assert.Equal("run 'demo' belongs to a different config: fitness.mode was merged and is now individual", e.Message);

        var added = Fingerprint() with { Settings = new Dictionary<string, string>(Fingerprint().Settings) { ["merge.method"] = "fisher" } };
        e = Assert.Throws<EvolverException>(() => run.CreateOrVerify(added));
        Assert.Equal("run 'demo' belongs to a different config: merge.method was unset and is now fisher", e.Message);
    }

    [Fact]
    public void A_changed_config_hash_alone_does_not_block_a_resume()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        run.CreateOrVerify(Fingerprint());
        Assert.False(run.CreateOrVerify(Fingerprint() with { ConfigHash = "other" }));
    }

    [Fact]
    public void A_corrupt_run_json_names_the_run_and_file()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        Directory.CreateDirectory(run.Root);
        File.WriteAllText(run.FingerprintPath, "{ not json");
        var e = Assert.Throws<EvolverException>(() => run.ReadFingerprint());
        Assert.Contains("run 'demo'", e.Message);
        Assert.Contains(run.FingerprintPath, e.Message);
    }

    [Fact]
    public void Checkpoint_hashes_follow_the_bytes_single_file_and_sharded()
    {
        using var weights = StorageFixtures.Tiny(1f);
        using var other = StorageFixtures.Tiny(2f);
        var single = Checkpoint.Save(_dir.File("single"), weights)[0];
        var again = Checkpoint.Save(_dir.File("again"), weights)[0];
        var changed = Checkpoint.Save(_dir.File("changed"), other)[0];
        Checkpoint.Save(_dir.File("sharded"), weights, maxShardBytes: 8);

        var hash = RunFingerprint.Sha256OfCheckpoint(single);
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, RunFingerprint.Sha256OfCheckpoint(again));
        Assert.Equal(hash, RunFingerprint.Sha256OfCheckpoint(_dir.File("single")));
        Assert.NotEqual(hash, RunFingerprint.Sha256OfCheckpoint(changed));
        var sharded = RunFingerprint.Sha256OfCheckpoint(_dir.File("sharded"));
        Assert.Matches("^[0-9a-f]{64}$", sharded);
        Assert.NotEqual(hash, sharded);
        Assert.Equal(sharded, RunFingerprint.Sha256OfCheckpoint(_dir.File("sharded")));
    }

    [Fact]
    public void The_config_copy_round_trips()
    {
        var run = RunDirectory.Open(_dir.Path, "demo");
        Assert.Null(run.ReadConfig());
        run.WriteConfig("evolver.fitness.mode = merged\n");
        Assert.Equal("evolver.fitness.mode = merged\n", run.ReadConfig());
    }
}
