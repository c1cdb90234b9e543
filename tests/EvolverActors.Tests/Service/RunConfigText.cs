using EvolverActors.Actors.Run;
using EvolverActors.Host.Config;

namespace EvolverActors.Tests.Service;

/// <summary>Run settings and configs parsed from HOCON text inside <c>evolver.run</c>, as a settings test writes them.</summary>
internal static class RunConfigText
{
    /// <summary>The service settings of <c>evolver.run { body }</c> (task "t").</summary>
    public static RunSettings Settings(string body) =>
        RunSettings.Parse(HoconSettings.Parse($"evolver.run {{ {body} }}", "test.conf").Section("evolver").Section("run"), "t");

    /// <summary>A whole run config of two models with <paramref name="body"/> added inside <c>evolver.run</c>.</summary>
    public static RunConfiguration Config(string body) =>
        RunConfiguration.Parse(HoconSettings.Parse($"evolver.run {{\n population.models = [a, b]\n {body}\n }}", "test.conf"));

    /// <summary>What <paramref name="config"/> reads back as once written by <see cref="RunConfigWriter"/>.</summary>
    public static RunConfiguration RoundTrip(RunConfiguration config, bool commented) =>
        RunConfiguration.Parse(HoconSettings.Parse(RunConfigWriter.Render(config, commented), "again.conf"));
}
