using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Storage;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Bench;

/// <summary>
/// `evolver bench soak` (docs/architecture.md §6): a real `evolver run` process, 8 simulated members and 8 evaluators,
/// runs a long budget while its /metrics is scraped and its page's status polled every second. It reports the process's
/// resident memory after the first tenth of the budget and at the end (a leak shows as growth), the run directory's
/// size then (snapshots are collected, so it stays flat), and the scrape latency's 99th percentile.
/// </summary>
internal static class SoakBenchmark
{
    public static JsonObject Run(long evaluations, double medianMs, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "evolver-bench-soak-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var zoo = SyntheticZoo.Write(Path.Combine(root, "zoo"), members: 8, parameters: 10_000);
            var config = SyntheticZoo.Config(Path.Combine(root, "soak.conf"), zoo, "steady-state", evaluators: 8, evaluations, "random", medianMs,
                extra: "http.bind = \"127.0.0.1:0\"");
            var runs = Path.Combine(root, "runs");
            var run = RunDirectory.Open(runs, "soak");
            using var process = Process.Start(EvolverChild.StartInfo(["run", "--config", config, "--run-id", "soak", "--runs", runs]))!;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                return Soak(process, run, evaluations, log);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
                process.WaitForExit();
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static JsonObject Soak(Process process, RunDirectory run, long evaluations, TextWriter log)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var scrapes = new List<double>();
        var watch = Stopwatch.StartNew();
        (double RssMb, double DiskMb, double SnapshotsMb, long Evaluations, double Seconds)? early = null;
        RunStatusView? status = null;
        (double RssMb, double DiskMb, double SnapshotsMb) last = (double.NaN, double.NaN, double.NaN);
        while (true)
        {
            Thread.Sleep(1000);
            status = ReadStatus(run);
            if (status is { State: "finished" })
            {
                break;
            }
            if (process.HasExited)
            {
                throw new EvolverException($"bench soak: evolver exited with {process.ExitCode}: {ReadStatus(run)?.Reason}");
            }
            if (watch.Elapsed > TimeSpan.FromHours(2))
            {
                throw new EvolverException("bench soak: the run did not finish within 2 hours");
            }
            if (status?.Http is not { } address)
            {
                continue;
            }
            last = (RssMb(process), DiskMb(run.Root), DiskMb(Path.Combine(run.Root, "snapshots"))); // the end's figures: the last reading while the run ran
            var scrape = Stopwatch.StartNew();
            try
            {
                var text = http.GetStringAsync($"http://{address}/metrics").GetAwaiter().GetResult();
                scrapes.Add(scrape.Elapsed.TotalMilliseconds);
                if (!text.Contains("evolver_evaluations_total", StringComparison.Ordinal))
                {
                    throw new EvolverException("bench soak: a scrape lacks evolver_evaluations_total");
                }
                _ = http.GetStringAsync($"http://{address}/api/status").GetAwaiter().GetResult(); // the page's poll
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                if (status.State != "finished")
                {
                    throw new EvolverException($"bench soak: the endpoint stopped answering while the run ran ({e.Message})");
                }
            }
            if (early is null && status.Evaluations >= evaluations / 10)
            {
                early = (last.RssMb, last.DiskMb, last.SnapshotsMb, status.Evaluations, watch.Elapsed.TotalSeconds);
                log.WriteLine($"after {status.Evaluations} evaluations: RSS {early.Value.RssMb:F0} MB, run directory {early.Value.DiskMb:F1} MB");
            }
        }
        var end = last;
        var first = early ?? throw new EvolverException("bench soak: the run finished before a tenth of its budget was seen");
        var rate = (status.Evaluations - first.Evaluations) / Math.Max(1e-9, watch.Elapsed.TotalSeconds - first.Seconds);
        scrapes.Sort();
        var p99 = scrapes.Count == 0 ? double.NaN : scrapes[Math.Min(scrapes.Count - 1, (int)Math.Ceiling(0.99 * scrapes.Count) - 1)];
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"finished: {status.Evaluations} evaluations, RSS {end.RssMb:F0} MB (was {first.RssMb:F0}), run directory {end.DiskMb:F1} MB (was {first.DiskMb:F1}), {scrapes.Count} scrapes"));
        return new JsonObject
        {
            ["bench"] = "soak",
            ["evaluations"] = status.Evaluations,
            ["evals_per_s"] = Math.Round(rate, 1),
            ["rss_mb_start"] = Math.Round(first.RssMb, 1),
            ["rss_mb_end"] = Math.Round(end.RssMb, 1),
            ["disk_mb_start"] = Math.Round(first.DiskMb, 2),
            ["disk_mb_end"] = Math.Round(end.DiskMb, 2),
            ["snapshots_mb_start"] = Math.Round(first.SnapshotsMb, 2),
            ["snapshots_mb_end"] = Math.Round(end.SnapshotsMb, 2),
            ["journal_bytes_per_evaluation"] = Math.Round((end.DiskMb - end.SnapshotsMb - first.DiskMb + first.SnapshotsMb) * 1024 * 1024 / Math.Max(1, status.Evaluations - first.Evaluations)),
            ["scrapes"] = scrapes.Count,
            ["scrape_ms_p99"] = Math.Round(p99, 1),
        };
    }

    private static RunStatusView? ReadStatus(RunDirectory run)
    {
        try
        {
            return run.ReadStatus();
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            return null; // replaced by rename as we read: the next second reads it
        }
    }

    /// <summary>The process's resident set (VmRSS) in MB; it has not exited yet (a finished run lingers a moment).</summary>
    private static double RssMb(Process process)
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        throw new EvolverException($"bench soak: /proc/{process.Id}/status has no VmRSS");
    }

    /// <summary>The run directory's size; files the run removes while it is counted (SQLite's journal, collected snapshots) are skipped.</summary>
    private static double DiskMb(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                long total = 0;
                foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
                {
                    try
                    {
                        total += file.Length;
                    }
                    catch (FileNotFoundException)
                    {
                        // gone since it was listed
                    }
                }
                return total / (1024.0 * 1024.0);
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
                // a snapshot folder collected while it was listed: count again
            }
        }
    }
}
