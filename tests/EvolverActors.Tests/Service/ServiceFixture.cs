using System.Diagnostics;
using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Run;
using EvolverActors.Tests.Checkpoints;

namespace EvolverActors.Tests.Service;

/// <summary>
/// A tiny zoo on synthetic data with its data-driven task file (so that every service test runs, fetched data or not),
/// run configs for it, and a way to start the real `evolver` executable.
/// </summary>
internal sealed class ServiceFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public ServiceFixture(int seed = 11)
    {
        Zoo = _dir.File("zoo");
        TaskFile = SyntheticTaskZoo.Write(Zoo, seed);
    }

    public string Zoo { get; }

    /// <summary>The zoo's image-classification task file (a run's <c>task</c>).</summary>
    public string TaskFile { get; }
    public string Runs => _dir.File("runs");

    /// <summary>
    /// A run config for the fixture's zoo; <paramref name="zoo"/> replaces its absolute path (e.g. "zoo", relative to
    /// <see cref="Start"/>'s directory), and <paramref name="extra"/> adds lines inside <c>evolver.run</c> (for example a
    /// PostgreSQL journal).
    /// </summary>
    public string Config(string name, string mode, string schedule, int evaluations, int evaluators, int seed = 3, string? zoo = null, string extra = "",
        string mergeMethod = "average")
    {
        var devices = string.Join(", ", Enumerable.Repeat("cpu", evaluators));
        var path = _dir.File(name + ".conf");
        File.WriteAllText(path, $$"""
            evolver.run {
              task = "{{TaskFile}}"
              population.zoo = "{{zoo ?? Zoo}}"
              fitness { mode = {{mode}}, merge-method = {{mergeMethod}} }
              schedule = {{schedule}}
              breeding { operator = evolver, f = 0.5, cr = 0.5, seed = {{seed}}, queue = 2 }
              evaluators.devices = [{{devices}}]
              budget.max-evaluations = {{evaluations}}
              persistence.snapshot-every = 5
              {{extra}}
            }
            """);
        return path;
    }

    /// <summary>Runs <paramref name="runId"/> in this process (one CPU evaluator) to its budget and returns its directory.</summary>
    public async Task<RunDirectory> CompletedRunAsync(string runId, string mode, string schedule, int evaluations)
    {
        var config = Config(runId, mode, schedule, evaluations, evaluators: 1);
        var (exitCode, _) = await RunLauncher.RunAsync(RunRequest.FromFile(config, runId, Runs, TextWriter.Null));
        Xunit.Assert.Equal(0, exitCode);
        return RunDirectory.Open(Runs, runId);
    }

    /// <summary>Starts `evolver` (the Host build copied next to the tests) as a separate process.</summary>
    public Process Start(params string[] args) => StartWith(new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Start"/>, with <paramref name="environment"/> added to the process's environment.</summary>
    public Process StartWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _dir.Path,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "evolver.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Waits on the run's status file (an explicit phase signal written by the steward), never on sleeps alone.</summary>
    public RunStatusView WaitForStatus(string runId, Func<RunStatusView, bool> condition, string phase, TimeSpan timeout, Process? process = null)
    {
        var run = RunDirectory.Open(Runs, runId);
        var deadline = Stopwatch.StartNew();
        RunStatusView? last = null;
        while (deadline.Elapsed < timeout)
        {
            try
            {
                last = run.ReadStatus();
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // written atomically by rename; a read can still race with the rename on some file systems
            }
            if (last is not null && condition(last))
            {
                return last;
            }
            if (process is { HasExited: true })
            {
                throw new Xunit.Sdk.XunitException($"phase '{phase}': evolver exited with {process.ExitCode} first; last status {JsonSerializer.Serialize(last)}");
            }
            Thread.Sleep(50);
        }
        throw new Xunit.Sdk.XunitException($"phase '{phase}' timed out after {timeout.TotalSeconds} s; last status {JsonSerializer.Serialize(last)}");
    }

    public void Dispose() => _dir.Dispose();
}
