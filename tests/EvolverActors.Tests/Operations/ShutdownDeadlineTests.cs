using System.Diagnostics;
using EvolverActors.Host.Bench;
using EvolverActors.Tests.Service;
using Xunit;

namespace EvolverActors.Tests.Operations;

/// <summary>
/// SIGTERM ends a run within its deadline even when an actor is stuck (docs/architecture.md §6): here every evaluation
/// sleeps ten minutes on its evaluator's thread, so the node cannot stop its actors cleanly; it leaves all the same,
/// and the run stays resumable.
/// </summary>
public sealed class ShutdownDeadlineTests
{
    [Fact]
    public async Task Sigterm_ends_a_run_whose_evaluator_is_stuck_within_the_stop_deadline()
    {
        using var fixture = new ServiceFixture();
        var zoo = SyntheticZoo.Write(Path.Combine(Path.GetDirectoryName(fixture.Runs)!, "zoo"), members: 4, parameters: 1_000);
        var config = SyntheticZoo.Config(Path.Combine(Path.GetDirectoryName(fixture.Runs)!, "stuck.conf"), zoo, "steady-state", evaluators: 1, 1000, "random",
            medianMs: 600_000, extra: "http.bind = \"127.0.0.1:0\"");
        using var run = fixture.Start("run", "--config", config, "--run-id", "stuck", "--runs", fixture.Runs);
        fixture.WaitForStatus("stuck", s => s.Http is not null, "serving (its evaluator asleep in the initial scores)", TimeSpan.FromSeconds(90), run);

        var sent = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        await run.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(75), TestContext.Current.CancellationToken);
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(70), $"the node took {sent.Elapsed.TotalSeconds:F0} s to leave");
        Assert.Contains(run.ExitCode, (int[])[0, 6]);
        var status = RunDirectoryOf(fixture).CurrentStatus()!;
        Assert.Equal("stopped", status.State);
    }

    private static EvolverActors.Actors.Storage.RunDirectory RunDirectoryOf(ServiceFixture fixture) =>
        EvolverActors.Actors.Storage.RunDirectory.Open(fixture.Runs, "stuck");
}
