namespace EvolverActors.Host.Config;

/// <summary>Where the HOCON files under config/hocon are (copied next to the executable at build time).</summary>
internal static class HoconFiles
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "config", "hocon");

    /// <summary>The built-in task files: config/hocon/tasks/&lt;name&gt;.conf.</summary>
    public static string TasksDirectory => Path.Combine(Directory, "tasks");
}
