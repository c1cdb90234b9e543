using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Storage;

public sealed class RunLockAndStatusTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly RunDirectory _run;

    public RunLockAndStatusTests() => _run = RunDirectory.Open(_dir.Path, "demo");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_lock_records_this_process_and_is_removed_on_dispose()
    {
        using (_run.AcquireLock())
        {
            Assert.Equal(Environment.ProcessId, _run.LockHolder());
            Assert.True(_run.IsLocked());
        }
        Assert.False(File.Exists(_run.LockPath));
        Assert.False(_run.IsLocked());
        using var again = _run.AcquireLock();
    }

    [Fact]
    public void A_starting_process_says_so_at_once_and_keeps_a_resumed_runs_counts()
    {
        Directory.CreateDirectory(_run.Root);
        _run.WriteStarting("merged", "steady-state", 5);
        var fresh = _run.CurrentStatus()!;
        Assert.Equal((RunStates.Starting, 0L, 5, Environment.ProcessId), (fresh.State, fresh.Evaluations, fresh.Members, fresh.Pid));
        Assert.True(fresh.IsRunning);

        _run.WriteStatus(fresh with { State = RunStates.Stopped, Evaluations = 1200, Accepted = 40, Members = 6, Pid = 1, Reason = "stopped by Ctrl-C" });
        _run.WriteStarting("merged", "steady-state", 5);
        var resumed = _run.CurrentStatus()!;
        Assert.Equal((RunStates.Starting, 1200L, 40L, 6), (resumed.State, resumed.Evaluations, resumed.Accepted, resumed.Members));
        Assert.Null(resumed.Reason);
        Assert.NotNull(resumed.StartToken);
    }

    [Fact]
    public void A_second_acquire_while_this_process_holds_the_lock_is_refused()
    {
        using var held = _run.AcquireLock();
        var e = Assert.Throws<EvolverException>(() => _run.AcquireLock());
        Assert.Equal($"run 'demo' is already running (pid {Environment.ProcessId})", e.Message);
    }

    [Fact]
    public void A_lock_held_by_another_live_process_is_refused()
    {
        var sleeper = StorageFixtures.Sleeper();
        try
        {
            Directory.CreateDirectory(_run.Root);
            File.WriteAllText(_run.LockPath, $"{sleeper.Id}\n");
            var e = Assert.Throws<EvolverException>(() => _run.AcquireLock());
            Assert.Equal($"run 'demo' is already running (pid {sleeper.Id})", e.Message);
            Assert.Equal(sleeper.Id, _run.LockHolder());
        }
        finally
        {
            StorageFixtures.Stop(sleeper);
        }
        // The holder was killed: its lock is stale now.
        using var taken = _run.AcquireLock();
        Assert.Equal(Environment.ProcessId, _run.LockHolder());
    }

    [Fact]
    public void A_stale_lock_of_a_dead_process_is_taken_over()
    {
        var dead = StorageFixtures.DeadPid();
        Directory.CreateDirectory(_run.Root);
        File.WriteAllText(_run.LockPath, $"{dead}\n");
        Assert.False(_run.IsLocked());
        using (_run.AcquireLock())
        {
            Assert.Equal(Environment.ProcessId, _run.LockHolder());
        }
    }

    [Fact]
    public void A_lock_whose_pid_was_reused_by_another_process_is_stale()
    {
        Directory.CreateDirectory(_run.Root);
        File.WriteAllText(_run.LockPath, $"{Environment.ProcessId}\nstart=1\n");
        using var taken = _run.AcquireLock();
        Assert.Equal(Environment.ProcessId, _run.LockHolder());
    }

    [Fact]
    public void A_garbled_lock_is_taken_over()
    {
        Directory.CreateDirectory(_run.Root);
        File.WriteAllText(_run.LockPath, "not a pid");
        using var taken = _run.AcquireLock();
        Assert.Equal(Environment.ProcessId, _run.LockHolder());
    }

    private static RunStatusView Status(string state, int pid, double bestDev = 0.8125, string? reason = null) => new(
        Run: "demo",
        State: state,
        Evaluations: 120,
        Accepted: 17,
        Rejected: 103,
        BestDev: bestDev,
        PopulationScore: null,
        Version: 17,
        EvalsPerS: 3.5,
        EtaS: 42.0,
        StartedUtc: new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        UpdatedUtc: new DateTime(2025, 1, 2, 3, 5, 6, 789, DateTimeKind.Utc),
        Pid: pid,
        Reason: reason,
        Mode: "merged",
        Schedule: "steady-state");

    [Fact]
    public void Status_round_trips_with_snake_case_names()
    {
        Assert.Null(_run.ReadStatus());
        var status = Status(RunStates.Running, Environment.ProcessId);
        _run.WriteStatus(status);
        // A status of this process is written with its start token, which tells it from a later process with the same pid.
        var written = status with { StartToken = ProcessLiveness.StartToken(Environment.ProcessId) };
        Assert.Equal(written, _run.ReadStatus());
        Assert.Equal(written, _run.CurrentStatus());

        var json = File.ReadAllText(_run.StatusPath);
        foreach (var name in new[] { "run", "state", "evaluations", "accepted", "rejected", "best_dev", "population_score",
            "version", "evals_per_s", "eta_s", "started_utc", "updated_utc", "pid", "reason", "mode", "schedule" })
        {
            Assert.Contains($"\"{name}\":", json);
        }
        Assert.Empty(Directory.EnumerateFiles(_run.Root, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Status_keeps_a_nan_best_score_before_the_first_evaluation()
    {
        _run.WriteStatus(Status(RunStates.Running, Environment.ProcessId, bestDev: double.NaN));
        Assert.True(double.IsNaN(_run.ReadStatus()!.BestDev));
        // Plain JSON has no NaN: it is written as null, which every reader parses.
        var json = File.ReadAllText(_run.StatusPath);
        Assert.Contains("\"best_dev\": null", json, StringComparison.Ordinal);
        using var parsed = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, parsed.RootElement.GetProperty("best_dev").ValueKind);
    }

    [Fact]
    public void Non_finite_scores_are_written_as_null_with_any_serializer_options()
    {
        var status = Status(RunStates.Stopped, 1, bestDev: double.PositiveInfinity) with
        {
            PopulationScore = double.NaN,
            EvalsPerS = double.NaN,
            EtaS = double.NegativeInfinity,
        };
        var json = System.Text.Json.JsonSerializer.Serialize(status); // default options, as a dashboard would use
        foreach (var name in new[] { "best_dev", "population_score", "evals_per_s", "eta_s" })
        {
            Assert.Contains($"\"{name}\":null", json, StringComparison.Ordinal);
        }
        var back = System.Text.Json.JsonSerializer.Deserialize<RunStatusView>(json)!;
        Assert.True(double.IsNaN(back.BestDev) && double.IsNaN(back.EvalsPerS));
        Assert.Equal((null, null), (back.PopulationScore, back.EtaS));
    }

    [Fact]
    public void A_status_file_of_an_older_version_with_quoted_NaN_still_reads()
    {
        Directory.CreateDirectory(_run.Root);
        File.WriteAllText(_run.StatusPath, """
            {"run":"demo","state":"stopped","evaluations":0,"accepted":0,"rejected":0,"best_dev":"NaN","population_score":null,
             "version":0,"evals_per_s":"Infinity","eta_s":null,"started_utc":"2025-01-02T03:04:05Z","updated_utc":"2025-01-02T03:04:05Z",
             "pid":1,"reason":"stopped by SIGTERM","mode":"merged","schedule":"steady-state"}
            """);
        var status = _run.ReadStatus()!;
        Assert.True(double.IsNaN(status.BestDev));
        Assert.Equal(double.PositiveInfinity, status.EvalsPerS);
        Assert.Equal(0, status.Failed);
    }

    [Fact]
    public void Evolver_status_prints_a_nan_best_score_as_null_and_exits_0()
    {
        // A run stopped by SIGTERM during its initial scoring: no best score yet.
        _run.WriteStatus(Status(RunStates.Stopped, StorageFixtures.DeadPid(), bestDev: double.NaN, reason: "stopped by SIGTERM"));
        var (code, output, error) = CliRunner.Run("status", "--run", "demo", "--runs", _dir.Path);
        Assert.Equal((0, ""), (code, error));
        using var parsed = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, parsed.RootElement.GetProperty("best_dev").ValueKind);
        Assert.Equal("stopped", parsed.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public void A_running_status_whose_process_is_gone_reads_as_interrupted()
    {
        var dead = StorageFixtures.DeadPid();
        _run.WriteStatus(Status(RunStates.Running, dead));

        Assert.Equal(RunStates.Running, _run.ReadStatus()!.State);
        var current = _run.CurrentStatus()!;
        Assert.Equal(RunStates.Interrupted, current.State);
        Assert.Contains($"process {dead} is gone", current.Reason);
        Assert.Equal(120, current.Evaluations);
    }

    [Fact]
    public void A_running_status_whose_pid_now_names_another_process_reads_as_interrupted()
    {
        // After kill -9 and prune (which removes the stale lock), the dead run's pid was given to an unrelated process.
        var sleeper = StorageFixtures.Sleeper();
        try
        {
            _run.WriteStatus(Status(RunStates.Running, sleeper.Id)); // no token: as an older version wrote it
            Assert.False(File.Exists(_run.LockPath));
            Assert.Equal(RunStates.Interrupted, _run.CurrentStatus()!.State);

            // The same with a token that is not the live process's (the pid was reused), whatever the lock says.
            _run.WriteStatus(Status(RunStates.Running, sleeper.Id) with { StartToken = "1" });
            File.WriteAllText(_run.LockPath, $"{sleeper.Id}\n");
            Assert.Equal(RunStates.Interrupted, _run.CurrentStatus()!.State);

            // A running run holds its lock: without a token in the status, the lock's token decides.
            _run.WriteStatus(Status(RunStates.Running, sleeper.Id));
            File.WriteAllText(_run.LockPath, $"{sleeper.Id}\nstart={ProcessLiveness.StartToken(sleeper.Id)}\n");
            Assert.Equal(RunStates.Running, _run.CurrentStatus()!.State);
        }
        finally
        {
            StorageFixtures.Stop(sleeper);
        }
    }

    [Fact]
    public void Evolver_status_reports_a_dead_running_status_as_interrupted_and_writes_nothing()
    {
        _run.WriteStatus(Status(RunStates.Running, StorageFixtures.DeadPid()));
        var before = DirectorySnapshot.Take(_run.Root);
        var (code, output, error) = CliRunner.Run("status", "--run", "demo", "--runs", _dir.Path);
        Assert.Equal((0, ""), (code, error));
        using var parsed = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal("interrupted", parsed.RootElement.GetProperty("state").GetString());
        Assert.Equal(before, DirectorySnapshot.Take(_run.Root));
    }

    [Theory]
    [InlineData("status.json", "{\"run\": \"demo\", \"state\": ", "is not a valid status")]
    [InlineData("status.json", "", "is not a valid status")]
    [InlineData("run.lock", "\u0000\u0001garbage", null)]
    public void Evolver_status_on_a_damaged_run_directory_prints_one_line_and_changes_nothing(string file, string content, string? error)
    {
        _run.WriteStatus(Status(RunStates.Running, StorageFixtures.DeadPid()));
        File.WriteAllText(Path.Combine(_run.Root, file), content);
        File.WriteAllText(_run.FingerprintPath, "{ not json");
        var before = DirectorySnapshot.Take(_run.Root);

        var (code, output, stderr) = CliRunner.Run("status", "--run", "demo", "--runs", _dir.Path);

        if (error is null)
        {
            Assert.Equal((0, ""), (code, stderr));
            Assert.Contains("\"state\":\"interrupted\"", output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal((2, ""), (code, output));
            Assert.Single(stderr.TrimEnd().Split('\n'));
            Assert.StartsWith("error: run 'demo': ", stderr, StringComparison.Ordinal);
            Assert.Contains(error, stderr, StringComparison.Ordinal);
        }
        Assert.Equal(before, DirectorySnapshot.Take(_run.Root));
    }

    [Fact]
    public void Temp_files_of_interrupted_writes_are_deleted_anywhere_under_the_run_directory()
    {
        var weights = Directory.CreateDirectory(_run.WeightsPath).FullName;
        var snapshots = Directory.CreateDirectory(Path.Combine(_run.Root, "snapshots", "deep")).FullName;
        var leftovers = new[]
        {
            Path.Combine(weights, ".o-1.safetensors.0123456789abcdef.tmp"),
            Path.Combine(snapshots, ".s-3.bin.feed.tmp"),
            Path.Combine(_run.Root, ".status.json.abc.tmp"),
            Path.Combine(_run.Root, ".run.lock.abc.tmp"),
        };
        var kept = new[]
        {
            Path.Combine(weights, "o-1.safetensors"),
            Path.Combine(_run.Root, "notes.tmp"), // not a temp file of ours (no leading dot)
            Path.Combine(_run.Root, ".hidden"),
        };
        foreach (var path in leftovers.Concat(kept))
        {
            File.WriteAllText(path, "12345");
        }

        Assert.Equal((4, 20L), StoragePaths.DeleteTempFiles(_run.Root));

        Assert.All(leftovers, path => Assert.False(File.Exists(path), path));
        Assert.All(kept, path => Assert.True(File.Exists(path), path));
        Assert.Equal((0, 0L), StoragePaths.DeleteTempFiles(_run.Root));
        Assert.Equal((0, 0L), StoragePaths.DeleteTempFiles(Path.Combine(_dir.Path, "absent")));
    }

    [Fact]
    public void A_finished_status_is_reported_as_is_whatever_its_pid()
    {
        var dead = StorageFixtures.DeadPid();
        var finished = Status(RunStates.Finished, dead, reason: "budget of 120 evaluations spent");
        _run.WriteStatus(finished);
        Assert.Equal(finished, _run.CurrentStatus());
    }
}
