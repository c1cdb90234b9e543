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
        Assert.Equal(status, _run.ReadStatus());
        Assert.Equal(status, _run.CurrentStatus());

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
    }

    [Fact]
    public void A_running_status_whose_process_is_gone_reads_as_stopped()
    {
        var dead = StorageFixtures.DeadPid();
        _run.WriteStatus(Status(RunStates.Running, dead));

        Assert.Equal(RunStates.Running, _run.ReadStatus()!.State);
        var current = _run.CurrentStatus()!;
        Assert.Equal(RunStates.Stopped, current.State);
        Assert.Contains($"process {dead} is gone", current.Reason);
        Assert.Equal(120, current.Evaluations);
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
