using EvolverActors.Tensors;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Tasks;

namespace EvolverActors.Host.Config;

/// <summary>
/// Turns a task reference into a resolved <see cref="IEvaluationTask"/> through the <see cref="TaskRegistry"/>. A
/// reference is a built-in task name (the file config/hocon/tasks/&lt;name&gt;.conf next to the executable, section
/// <c>evolver.tasks.&lt;name&gt;</c>) or the path of a task file with an <c>evolver.task { kind = ..., ... }</c>
/// section. Relative paths inside a task file are taken from the file's directory.
/// </summary>
internal static class TaskConfigs
{
    public const string TaskSection = "evolver.task";
    public const string BuiltInSection = "evolver.tasks";

    /// <summary>The names of the built-in task files, sorted.</summary>
    public static IReadOnlyList<string> BuiltIn =>
        Directory.Exists(HoconFiles.TasksDirectory)
            ? [.. Directory.GetFiles(HoconFiles.TasksDirectory, "*.conf").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)]
            : [];

    /// <summary>The task a reference names.</summary>
    /// <param name="reference">A built-in task name, or a task file's path.</param>
    /// <param name="quick">Whether the population is a --quick zoo (sentiment-minilm picks its quick sizes).</param>
    public static IEvaluationTask Load(string reference, bool quick) => Load(reference, quick, preferred: null);

    /// <summary>A task given inline, e.g. a run config's <c>task { kind = ..., ... }</c> section.</summary>
    public static IEvaluationTask FromSection(Settings section, bool quick) => TaskRegistry.Resolve(section, quick);

    /// <summary>
    /// <see cref="Load(string, bool)"/>, where a task file without an <c>evolver.task</c> section may hold
    /// <c>evolver.tasks.&lt;preferred&gt;</c> (a copy of a built-in task file, edited).
    /// </summary>
    public static IEvaluationTask Load(string reference, bool quick, string? preferred)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            throw new EvolverException($"a task is named by a built-in name ({string.Join(", ", BuiltIn)}) or a task file's path; got nothing");
        }
        var (root, section) = IsPath(reference) ? FromFile(reference, preferred) : BuiltInTask(reference);
        var task = TaskRegistry.Resolve(section, quick);
        root.RequireAllKnown();
        return task;
    }

    private static bool IsPath(string reference) =>
        File.Exists(reference) || reference.Contains('/', StringComparison.Ordinal) || reference.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
        || reference.EndsWith(".conf", StringComparison.OrdinalIgnoreCase);

    private static (Settings Root, Settings Section) BuiltInTask(string name)
    {
        var path = Path.Combine(HoconFiles.TasksDirectory, name + ".conf");
        if (!File.Exists(path))
        {
            throw new EvolverException($"unknown task '{name}': the built-in tasks are {string.Join(", ", BuiltIn)} (or give a task file's path)");
        }
        var root = HoconSettings.LoadFile(path, "task");
        var key = $"{BuiltInSection}.{name}";
        return root.Has(key) ? (root, root.Section(key)) : throw new EvolverException($"{path}: has no section '{key}'");
    }

    private static (Settings Root, Settings Section) FromFile(string path, string? preferred)
    {
        var root = HoconSettings.LoadFile(path, "task");
        if (root.Has(TaskSection))
        {
            return (root, root.Section(TaskSection));
        }
        if (root.Has(BuiltInSection))
        {
            var tasks = root.Section(BuiltInSection);
            var names = tasks.Keys.ToList();
            if (preferred is not null && tasks.Has(preferred))
            {
                return (root, tasks.Section(preferred));
            }
            if (names.Count == 1)
            {
                return (root, tasks.Section(names[0]));
            }
        }
        throw new EvolverException($"{path}: has no '{TaskSection} {{ kind = ... }}' section");
    }
}
