using EvolverActors.Actors.Run;
using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary><c>search.*</c>, the evolved-coefficient search: off by default, parsed, refused where it cannot work, in the fingerprint only when on.</summary>
public sealed class SearchSettingsTests
{
    private const string Linear = "fitness { mode = merged, merge-method = linear }";

    private static RunSettings Parse(string body) => RunConfigText.Settings(body);

    private static RunConfiguration Config(string body) => RunConfigText.Config(body);

    [Fact]
    public void The_search_is_off_by_default_and_a_run_without_it_keeps_the_fingerprint_it_had()
    {
        var s = Parse("fitness.mode = merged");
        Assert.False(s.Search.Enabled);
        Assert.DoesNotContain(s.Identity().Keys, k => k.StartsWith("search.", StringComparison.Ordinal));
    }

    [Fact]
    public void Its_settings_parse_and_enter_the_fingerprint()
    {
        var s = Parse($"{Linear}\n search {{ method = cma-es, sigma = 0.25 }}");
        Assert.Equal((true, 0.25), (s.Search.Enabled, s.Search.Sigma));
        Assert.Equal("cma-es", s.Identity()["search.method"]);
        Assert.Equal("0.25", s.Identity()["search.sigma"]);
        Assert.Equal(0.5, Parse($"{Linear}\n search.method = cma-es").Search.Sigma);
    }

    [Theory]
    [InlineData("search.method = cma-es", "search.method = cma-es searches linear merge coefficients: set fitness.mode = merged and fitness.merge-method = linear")]
    [InlineData("fitness { mode = individual }\n search.method = cma-es", "fitness.mode = merged")]
    [InlineData(Linear + "\n search.sigma = 0.3", "search.sigma is set but there is no search")]
    [InlineData(Linear + "\n search.method = cmaes", "search.method = 'cmaes' is unknown")]
    [InlineData(Linear + "\n search { method = cma-es, sigma = 0 }", "search.sigma")]
    [InlineData("fitness { mode = merged, merge-method = linear, merge-params { weights = \"1:2\" } }\n search.method = cma-es", "fitness.merge-params are set")]
    [InlineData(Linear + "\n search.method = cma-es\n acceptance.guard-fraction = 0.3", "does not take a guard")]
    [InlineData(Linear + "\n search.method = cma-es\n schedule = generational", "schedule = generational does not apply")]
    public void Settings_that_cannot_work_are_refused_in_one_line(string body, string expected)
    {
        var e = Assert.Throws<EvolverException>(() => Parse(body));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_simulated_run_has_no_weights_to_merge()
    {
        var e = Assert.Throws<EvolverException>(() => Config($"task = simulated\n {Linear}\n search.method = cma-es"));
        Assert.Contains("not with task = simulated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_run_config_written_back_keeps_the_search_and_one_without_it_stays_without()
    {
        var config = Config($"task = mnist-noniid\n {Linear}\n search {{ method = cma-es, sigma = 0.75 }}");
        var again = RunConfigText.RoundTrip(config, commented: false);
        Assert.Equal(config.Settings.Search, again.Settings.Search);
        var plain = Config("task = mnist-noniid");
        Assert.False(RunConfigText.RoundTrip(plain, commented: true).Settings.Search.Enabled);
    }

    [Fact]
    public void The_shipped_search_config_is_a_search()
    {
        var config = RunConfiguration.Load(Path.Combine(AppContext.BaseDirectory, "config", "hocon", "runs", "mnist-noniid-search.conf"));
        Assert.True(config.Settings.Search.Enabled);
        Assert.Equal(("linear", 76L), (config.Settings.MergeMethod, config.Settings.MaxEvaluations));
    }
}
