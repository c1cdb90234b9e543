using Akka.Configuration;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Config;

/// <summary>Finds and parses the HOCON files under config/hocon (copied next to the executable at build time).</summary>
internal static class HoconFiles
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "config", "hocon");

    /// <summary>Parses <paramref name="path"/>, or the task file config/hocon/tasks/&lt;task&gt;.conf when no path is given.</summary>
    public static Akka.Configuration.Config LoadTask(string task, string? path = null)
    {
        path ??= Path.Combine(Directory, "tasks", task + ".conf");
        if (!File.Exists(path))
        {
            var known = System.IO.Directory.Exists(Path.Combine(Directory, "tasks"))
                ? string.Join(", ", System.IO.Directory.GetFiles(Path.Combine(Directory, "tasks"), "*.conf").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
                : "none";
            throw new EvolverException($"{path}: no such task file (known tasks: {known})");
        }
        Akka.Configuration.Config config;
        try
        {
            config = ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or ArgumentException)
        {
            throw new EvolverException($"{path}: not valid HOCON ({e.Message.Split('\n')[0]})");
        }
        var section = $"evolver.tasks.{task}";
        if (!config.HasPath(section))
        {
            throw new EvolverException($"{path}: has no section '{section}'");
        }
        return config.GetConfig(section);
    }
}
