using System.Security.Cryptography;
using System.Text;
using Akka.Configuration;
using EvolverActors.Actors.Run;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Run;

/// <summary>Reads a run config file (HOCON) into <see cref="RunSettings"/>, with one-line errors.</summary>
internal static class RunConfig
{
    public static (RunSettings Settings, string Text) Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new EvolverException($"{path}: no such run config");
        }
        var text = File.ReadAllText(path);
        Akka.Configuration.Config config;
        try
        {
            config = ConfigurationFactory.ParseString(text);
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or ArgumentException)
        {
            throw new EvolverException($"{path}: not valid HOCON ({e.Message.Split('\n')[0]})");
        }
        return (RunSettings.Parse(config, path), text);
    }

    public static string ZooPath(RunSettings settings) => Path.GetFullPath(settings.Zoo);

    /// <summary>Whether the population is a --quick zoo (evolver.run.population.quick = on).</summary>
    public static bool Quick(string configText) =>
        ConfigurationFactory.ParseString(configText).GetBoolean("evolver.run.population.quick", false);

    public static string Hash(IReadOnlyDictionary<string, string> identity) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", identity.Select(kv => $"{kv.Key}={kv.Value}")))));
}
