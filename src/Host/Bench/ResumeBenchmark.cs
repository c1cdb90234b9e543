using System.Diagnostics;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench resume`: a real `evolver run` process makes N (1 000) accepted events and is killed (-9); a new
/// process resumes the run, and the figure is the time from its start to its first new evaluation (seen in the
/// run's status file, which the steward writes after each decision). With <c>--resumes K</c> the resumed process is
/// killed and the run resumed again, K times in all: start-up times on a small VM spread by a few hundred milliseconds,
/// and making 100 000 events takes minutes, so one set of events serves several measurements; the figure is the median.
/// </summary>
internal static class ResumeBenchmark
{
    public static JsonObject Run(int events, int resumes, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "evolver-bench-resume-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var zoo = SyntheticZoo.Write(Path.Combine(root, "zoo"), members: 8, parameters: 10_000);
            var config = SyntheticZoo.Config(Path.Combine(root, "resume.conf"), zoo, "steady-state", evaluators: 1, evaluations: 1_000_000, "always", 0);
            var runs = Path.Combine(root, "runs");
            var run = RunDirectory.Open(runs, "resume");

            using (var first = Start(config, runs, log))
            {
                try
                {
                    var made = WaitFor(run, s => s.Accepted >= events, first, MakingTimeout(events), $"making {events} accepted events");
                    log.WriteLine($"first process killed after {made.Accepted} accepted events ({made.Evaluations} evaluations)");
                }
                finally
                {
                    Kill(first);
                }
            }
            var times = new List<double>();
            long accepted = 0;
            for (var i = 0; i < resumes; i++)
            {
                var before = run.ReadStatus()!;
                accepted = before.Accepted;
                var resumeMs = ResumeOnce(config, runs, run, before, log);
                log.WriteLine($"resumed a run of {before.Accepted} accepted events: first new evaluation {resumeMs:F0} ms after process start");
                times.Add(Math.Round(resumeMs));
            }
            var sorted = times.Order().ToList();
            var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : Math.Round((sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2);
            var result = new JsonObject { ["bench"] = "resume", ["events"] = accepted, ["resume_ms"] = median };
            if (resumes > 1)
            {
                result["resume_ms_each"] = new JsonArray([.. times.Select(t => (JsonNode)t)]);
            }
            return result;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Starts a process on the killed run and kills it once it made its first new evaluation: the time to that, in ms.</summary>
    private static double ResumeOnce(string config, string runs, RunDirectory run, RunStatusView before, TextWriter log)
    {
        var watch = Stopwatch.StartNew();
        using var process = Start(config, runs, log);
        try
        {
            WaitFor(run, s => s.Pid == process.Id && s.Evaluations > before.Evaluations, process, TimeSpan.FromMinutes(2), "resuming");
            return watch.Elapsed.TotalMilliseconds;
        }
        finally
        {
            Kill(process);
        }
    }

    /// <summary>Time allowed to make the events: a run here makes a few hundred a second, so 100 000 need minutes.</summary>
    private static TimeSpan MakingTimeout(int events) => TimeSpan.FromMinutes(10) + TimeSpan.FromMilliseconds(20.0 * events);

    /// <summary>SIGKILL (what the benchmark measures recovery from); also on a failure, so no run is left behind.</summary>
    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
    }

    /// <summary>
    /// Starts this same executable as `evolver run` on the config. Its start-up trace (<c>EVOLVER_TRACE_STARTUP=1</c>,
    /// inherited) goes to the benchmark's log, which is how the steps of a resume are timed.
    /// </summary>
    private static Process Start(string config, string runs, TextWriter log)
    {
        var process = Process.Start(EvolverChild.StartInfo(["run", "--config", config, "--run-id", "resume", "--runs", runs]))!;
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data?.StartsWith("startup +", StringComparison.Ordinal) == true)
            {
                log.WriteLine(line.Data);
            }
        };
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
