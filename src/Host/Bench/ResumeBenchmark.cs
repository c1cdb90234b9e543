using System.Diagnostics;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench resume`: a real `evolver run` process makes about 1 000 accepted events and is killed (-9); a new
/// process resumes the run, and the figure is the time from its start to its first new evaluation (seen in the
/// run's status file, which the steward writes after each decision).
/// </summary>
internal static class ResumeBenchmark
{
    public static JsonObject Run(int events, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "evolver-bench-resume-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var zoo = SyntheticZoo.Write(Path.Combine(root, "zoo"), members: 8, parameters: 10_000);
            var config = SyntheticZoo.Config(Path.Combine(root, "resume.conf"), zoo, "steady-state", evaluators: 1, evaluations: 1_000_000, "always", 0);
            var runs = Path.Combine(root, "runs");
            var run = RunDirectory.Open(runs, "resume");

            using (var first = Start(config, runs))
            {
                var made = WaitFor(run, s => s.Accepted >= events, first, TimeSpan.FromMinutes(10), $"making {events} accepted events");
                first.Kill(entireProcessTree: true);
                first.WaitForExit();
                log.WriteLine($"first process killed after {made.Accepted} accepted events ({made.Evaluations} evaluations)");
            }
            var before = run.ReadStatus()!;
            var watch = Stopwatch.StartNew();
            using var second = Start(config, runs);
            var resumed = WaitFor(run, s => s.Pid == second.Id && s.Evaluations > before.Evaluations, second, TimeSpan.FromMinutes(2), "resuming");
            var resumeMs = watch.Elapsed.TotalMilliseconds;
            second.Kill(entireProcessTree: true);
            second.WaitForExit();
            log.WriteLine($"resumed a run of {before.Accepted} accepted events: first new evaluation {resumeMs:F0} ms after process start (evaluation {resumed.Evaluations})");
            return new JsonObject { ["bench"] = "resume", ["events"] = before.Accepted, ["resume_ms"] = Math.Round(resumeMs) };
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Starts this same executable as `evolver run` on the config.</summary>
    private static Process Start(string config, string runs)
    {
        var self = Environment.ProcessPath ?? throw new EvolverException("cannot find the evolver executable");
        var info = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ResumeBenchmark).Assembly.Location);
        }
        foreach (var arg in new[] { "run", "--config", config, "--run-id", "resume", "--runs", runs })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static RunStatusView WaitFor(RunDirectory run, Func<RunStatusView, bool> condition, Process process, TimeSpan timeout, string phase)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            RunStatusView? status = null;
            try
            {
                status = run.ReadStatus();
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
            {
                // the steward renames a new status into place; try again
            }
            if (status is not null && condition(status))
            {
                return status;
            }
            if (process.HasExited)
            {
                var why = run.ReadStatus()?.Reason;
                throw new EvolverException($"bench resume: evolver exited with {process.ExitCode} while {phase}{(why is null ? "" : $": {why}")}");
            }
            Thread.Sleep(5);
        }
        throw new EvolverException($"bench resume: timed out while {phase}");
    }
}
