using System.Text.Json;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Commands;
using EvolverActors.Tensors.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>`evolver export` of a real run whose config names its zoo relative to where `evolver run` was started.</summary>
public sealed class ExportTests
{
    [Fact]
    public async Task A_run_with_a_relative_zoo_exports_from_any_directory_and_never_over_what_it_needs()
    {
        using var fixture = new ServiceFixture(seed: 12);
        var config = fixture.Config("relative", mode: "merged", schedule: "steady-state", evaluations: 6, evaluators: 1, zoo: "zoo");
        using (var run = fixture.Start("run", "--config", config, "--run-id", "relative", "--runs", "runs"))
        {
            await run.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
            Assert.True(run.ExitCode == 0, $"evolver run exited with {run.ExitCode}");
        }
        var recorded = RunDirectory.Open(fixture.Runs, "relative").ReadFingerprint()!;
        Assert.Equal(Path.GetDirectoryName(fixture.Zoo), recorded.WorkingDirectory);
        Assert.False(Directory.Exists(Path.GetFullPath("zoo")), "this process's directory has no zoo: export must not look there");
        var output = Path.Combine(fixture.Runs, "..", "fused");

        var (code, stdout, error) = CliRunner.Run("export", "--run", "relative", "--runs", fixture.Runs, "--out", output);
        Assert.True(code == 0, error);
        Assert.Contains("exported run 'relative' (merged", stdout, StringComparison.Ordinal);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "evolver-manifest.json"))))
        {
            Assert.Equal(fixture.Zoo, manifest.RootElement.GetProperty("zoo").GetString());
        }
        Checkpoint.RequireFinite(output);

        (code, _, error) = CliRunner.Run("export", "--run", "relative", "--runs", fixture.Runs, "--out", output);
        Assert.Equal(Cli.UserError, code);
        Assert.Contains("is not empty; give --force", error, StringComparison.Ordinal);
        (code, _, error) = CliRunner.Run("export", "--run", "relative", "--runs", fixture.Runs, "--out", output, "--force");
        Assert.True(code == 0, error);

        var member = Path.Combine(fixture.Zoo, "models", "model-1");
        var before = File.ReadAllBytes(Path.Combine(member, Checkpoint.SingleFileName));
        (code, _, error) = CliRunner.Run("export", "--run", "relative", "--runs", fixture.Runs, "--out", member, "--force");
        Assert.Equal(Cli.UserError, code);
        Assert.Contains("is population member 1", error, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(member, Checkpoint.SingleFileName)));
    }
}
