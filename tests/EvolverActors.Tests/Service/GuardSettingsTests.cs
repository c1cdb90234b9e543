using EvolverActors.Actors.Run;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary><c>acceptance.*</c>, the guard against dev overfitting: off by default, parsed, refused where it cannot work, in the fingerprint only when on.</summary>
public sealed class GuardSettingsTests
{
    private static RunSettings Parse(string body) => RunConfigText.Settings(body);

    private static RunConfiguration Config(string body) => RunConfigText.Config(body);

    [Fact]
    public void The_guard_is_off_by_default_and_a_run_without_it_keeps_the_fingerprint_it_had()
    {
        var s = Parse("fitness.mode = merged");
        Assert.False(s.Guard.Enabled);
        Assert.Equal(OutputChoice.Last, s.Guard.Output);
        Assert.DoesNotContain(s.Identity().Keys, k => k.StartsWith("acceptance.", StringComparison.Ordinal));
    }

    [Fact]
    public void Its_settings_parse_and_enter_the_fingerprint()
    {
        var s = Parse("acceptance { guard-fraction = 0.3, guard-tolerance = 0.005, output = best-guard }");
        Assert.Equal((0.3, 0.005, OutputChoice.BestGuard), (s.Guard.Fraction, s.Guard.Tolerance, s.Guard.Output));
        Assert.Equal("0.3", s.Identity()["acceptance.guard-fraction"]);
        Assert.Equal("0.005", s.Identity()["acceptance.guard-tolerance"]);
        Assert.Equal("best-guard", s.Identity()["acceptance.output"]);
    }

    [Theory]
    [InlineData("acceptance.output = best-guard", "acceptance.output = best-guard needs a guard")]
    [InlineData("acceptance.guard-tolerance = 0.01", "acceptance.guard-tolerance is set but there is no guard")]
    [InlineData("acceptance.guard-fraction = 0.95", "acceptance.guard-fraction")]
    [InlineData("acceptance.output = best", "acceptance.output = 'best' is unknown")]
    public void Settings_that_cannot_work_are_refused_in_one_line(string body, string expected)
    {
        var e = Assert.Throws<EvolverException>(() => Parse(body));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void An_external_evaluator_must_score_a_guard_split_of_its_own()
    {
        const string external = "evaluator { kind = command, command = [\"/bin/true\"] }\n acceptance.guard-fraction = 0.3";
        var e = Assert.Throws<EvolverException>(() => Config(external));
        Assert.Contains("needs the evaluator to score a 'guard' split", e.Message, StringComparison.Ordinal);
        var config = Config("evaluator { kind = command, command = [\"/bin/true\"], splits = [dev, guard, test] }\n acceptance.guard-fraction = 0.3");
        Assert.True(config.Settings.Guard.Enabled);
    }

    [Fact]
    public void A_simulated_run_has_no_dev_data_to_hold_a_guard_out_of()
    {
        var e = Assert.Throws<EvolverException>(() => Config("task = simulated\n acceptance.guard-fraction = 0.3"));
        Assert.Contains("not with task = simulated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_run_config_written_back_keeps_the_guard()
    {
        var config = Config("task = mnist-noniid\n acceptance { guard-fraction = 0.25, guard-tolerance = 0.01, output = best-guard }");
        var again = RunConfigText.RoundTrip(config, commented: false);
        Assert.Equal(config.Settings.Guard, again.Settings.Guard);
    }

    [Fact]
    public void The_run_config_written_back_reads_as_the_same_run()
    {
        // Keys a run's identity holds, each set away from its default (run.conf in a run directory must resume the run).
        var config = Config("""
            task = mnist-noniid
            fitness.mode = merged
            fitness.merge-method = linear
            fitness.merge-params { layer-weights = "fc1@0.2:0.8;conv1@0.5:0.5" }
            breeding.lag = 8
            breeding.queue = 3
            breeding.f = 0.3
            memory.max-resident = 1GiB
            budget.max-evaluations = 123
            """);
        var again = RunConfigText.RoundTrip(config, commented: true);
        Assert.Equal(config.Settings.Identity(), again.Settings.Identity());
        Assert.Equal((8, 1L << 30), (again.Settings.Lag, again.Settings.MaxResidentBytes));
    }
}
