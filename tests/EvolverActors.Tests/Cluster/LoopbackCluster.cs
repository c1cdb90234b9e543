using System.Diagnostics;
using System.Text.RegularExpressions;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Bench;
using EvolverActors.Tests.Service;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>A simulated run (log-normal evaluation times, random scores) shared by a coordinator and its workers.</summary>
internal sealed partial class LoopbackCluster : IDisposable
{
    public const int Members = 6;

    private readonly Dictionary<Process, System.Text.StringBuilder> _output = [];

    private readonly string _zoo;
    private readonly int _budget;

    /// <param name="budget">Evaluations of the run.</param>
    /// <param name="extra">More config lines for every node (e.g. the PostgreSQL journal, a cluster secret).</param>
    /// <param name="runId">The run id (runs in a shared PostgreSQL database need unique ones).</param>
    public LoopbackCluster(int budget, string extra = "", string runId = "cluster")
    {
        RunId = runId;
        Fixture = new ServiceFixture();
        Root = Path.GetDirectoryName(Fixture.Runs)!;
        _budget = budget;
        _zoo = SyntheticZoo.Write(Path.Combine(Root, "sim-zoo"), members: Members, parameters: 20_000);
        CoordinatorConfig = Path.Combine(Root, "coordinator.conf");
        WriteCoordinatorConfig(extra);
        WorkerConfig = WriteWorkerConfig("worker.conf", extra);
    }

    /// <summary>(Re)writes the coordinator's config with <paramref name="extra"/> keys.</summary>
    public void WriteCoordinatorConfig(string extra) =>
        SyntheticZoo.Config(CoordinatorConfig, _zoo, "steady-state", evaluators: 1, _budget, "random", medianMs: 10, extra: "breeding.queue = 8\n" + extra);

    /// <summary>Another worker config (the same population) with <paramref name="extra"/> keys.</summary>
    public string WriteWorkerConfig(string fileName, string extra) =>
        SyntheticZoo.Config(Path.Combine(Root, fileName), _zoo, "steady-state", evaluators: 2, _budget, "random", medianMs: 10,
            extra: "breeding.queue = 8\n" + extra);

    /// <summary>The synthetic zoo every config names.</summary>
    public string Zoo => _zoo;

    /// <summary>A scratch directory that the fixture removes.</summary>
    public string Root { get; }

    public ServiceFixture Fixture { get; }
    public string CoordinatorConfig { get; }
    public string WorkerConfig { get; }
    public string RunId { get; }
    public RunDirectory Run => RunDirectory.Open(Fixture.Runs, RunId);

    public Process StartCoordinator() => Track(Fixture.Start("run", "--config", CoordinatorConfig, "--run-id", RunId, "--runs", Fixture.Runs));

    /// <summary>A worker, once the coordinator has recorded its address (the node finds it in the run directory).</summary>
    public Process StartWorker(string name, string? config = null, params string[] more)
    {
        var wait = Stopwatch.StartNew();
        while (Run.RunningCoordinator() is null)
        {
            Assert.True(wait.Elapsed < TimeSpan.FromMinutes(2), "the coordinator never recorded its address");
            Thread.Sleep(50);
        }
        return Track(Fixture.Start(["node", "--config", config ?? WorkerConfig, "--run-id", RunId, "--runs", Fixture.Runs, "--name", name, .. more]));
    }

    /// <summary>A standby coordinator (`evolver node --coordinator`), once the coordinator has recorded its address.</summary>
    public Process StartStandby(string name)
    {
        return StartWorker(name, CoordinatorConfig, "--coordinator");
    }

    /// <summary>A worker with more arguments (no wait for the coordinator).</summary>
    public Process StartNode(params string[] more) => StartNodeWith(WorkerConfig, more);

    /// <summary>A node of <paramref name="config"/> with more arguments (no wait for the coordinator).</summary>
    public Process StartNodeWith(string config, params string[] more) =>
        Track(Fixture.Start(["node", "--config", config, "--run-id", RunId, "--runs", Fixture.Runs, .. more]));

    /// <summary>`evolver node` with exactly <paramref name="args"/> (no run directory given) and <paramref name="environment"/>.</summary>
    public Process StartNodeWith(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Track(Fixture.StartWith(environment, ["node", .. args]));

    public string Output(Process process)
    {
        lock (_output)
        {
            return _output[process].ToString();
        }
    }

    /// <summary>Waits until <paramref name="process"/> has printed <paramref name="text"/>.</summary>
    public void WaitForOutput(Process process, string text, TimeSpan timeout)
    {
        var wait = Stopwatch.StartNew();
        while (!Output(process).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(wait.Elapsed < timeout && !process.HasExited, $"waited for \"{text}\": {Output(process)}");
            Thread.Sleep(50);
        }
    }

    /// <summary>What a worker said it scored when it left.</summary>
    public long ScoredBy(Process worker) =>
        ScoredLine().Match(Output(worker)) is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;

    public static async Task ExitsWith(int code, Process process, TimeSpan timeout)
    {
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == code, $"exit status {process.ExitCode}, expected {code}");
    }

    private Process Track(Process process)
    {
        var text = new System.Text.StringBuilder();
        lock (_output)
        {
            _output[process] = text;
        }
        void Append(object _, DataReceivedEventArgs e)
        {
            lock (_output)
            {
                text.AppendLine(e.Data);
            }
        }
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        return process;
    }

    public void Dispose()
    {
        foreach (var process in _output.Keys)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            process.Dispose();
        }
        Fixture.Dispose();
    }

    [GeneratedRegex(@"its evaluators scored (\d+) offspring")]
    private static partial Regex ScoredLine();
}
