using System.Text.Json;
using EvolverActors.Tensors;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// One run's directory, <c>&lt;runs-root&gt;/&lt;run-id&gt;/</c>: <c>run.json</c> (the fingerprint checked on
/// resume, and the working directory the run was created in), <c>run.conf</c> (the config text it ran with), <c>journal.db</c> (the SQLite journal) or <c>journal.json</c> (naming a PostgreSQL journal),
/// <c>weights/</c> (its <see cref="WeightStore"/>), <c>status.json</c> (the status view) and
/// <c>run.lock</c> (the pid of the process running it) and <c>run.started</c> (written once the journal holds the run's
/// first events). Opening creates nothing, and the readers (status, lineage, export) never write; writers create the
/// directory when needed.
/// </summary>
public sealed partial class RunDirectory
{
    public const string FingerprintFileName = "run.json";
    public const string ConfigFileName = "run.conf";
    public const string JournalFileName = "journal.db";
    public const string WeightsDirectoryName = "weights";
    public const string StatusFileName = "status.json";
    public const string LockFileName = "run.lock";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly Lazy<WeightStore> _weights;

    private RunDirectory(string runsRoot, string runId)
    {
        RunId = runId;
        RunsRoot = Path.GetFullPath(runsRoot);
        Root = Path.Combine(RunsRoot, runId);
        _weights = new Lazy<WeightStore>(() => new WeightStore(WeightsPath));
    }

    /// <summary>The run <paramref name="runId"/> under <paramref name="runsRoot"/> (validated; nothing is created).</summary>
    public static RunDirectory Open(string runsRoot, string runId)
    {
        if (string.IsNullOrWhiteSpace(runsRoot))
        {
            throw new Tensors.EvolverException("--runs: the runs directory is empty: give a directory, e.g. --runs .evolver/runs");
        }
        return new RunDirectory(runsRoot, StoragePaths.RequireValidId(runId, "run id"));
    }

    public string RunId { get; }
    public string RunsRoot { get; }
    public string Root { get; }
    public string FingerprintPath => Path.Combine(Root, FingerprintFileName);
    public string ConfigPath => Path.Combine(Root, ConfigFileName);
    public string JournalPath => Path.Combine(Root, JournalFileName);

    /// <summary>The run's journal: PostgreSQL when <c>journal.json</c> names one, else <see cref="JournalPath"/> (SQLite).</summary>
    public JournalConnection Journal => JournalConnection.Of(Root, JournalPath);
    public string WeightsPath => Path.Combine(Root, WeightsDirectoryName);
    public string StatusPath => Path.Combine(Root, StatusFileName);
    public string LockPath => Path.Combine(Root, LockFileName);

    /// <summary>The run's weight store (its directory is created on first use).</summary>
    public WeightStore Weights => _weights.Value;

    /// <summary>True once the run has been created (its run.json exists).</summary>
    public bool Exists => File.Exists(FingerprintPath);

    /// <summary>The recorded fingerprint, or null before the run is created.</summary>
    public RunFingerprint? ReadFingerprint()
    {
        var text = ReadText(FingerprintPath);
        return text is null ? null : ParseFingerprint(text, RunId, FingerprintPath);
    }

    /// <summary>
    /// The fingerprint in <paramref name="text"/> (run <paramref name="runId"/>'s <c>run.json</c>, read from
    /// <paramref name="source"/>: a file, or a worker's copy of the coordinator's); one line when it is not one.
    /// </summary>
    public static RunFingerprint ParseFingerprint(string text, string runId, string source)
    {
        RunFingerprint? fingerprint;
        try
        {
            fingerprint = JsonSerializer.Deserialize<RunFingerprint>(text, Json);
        }
        catch (JsonException e)
        {
            throw new EvolverException($"run '{runId}': {source} is not a valid run fingerprint ({e.Message.Split('\n')[0]})", e);
        }
        if (fingerprint is not { ConfigHash: not null, Settings: not null, Members: not null })
        {
            throw new EvolverException($"run '{runId}': {source} is not a valid run fingerprint (fields missing)");
        }
        return fingerprint;
    }

    /// <summary>
    /// Records <paramref name="expected"/> for a new run (true), or checks that an existing run was created
    /// with the same population and settings (false); a mismatch throws an <see cref="EvolverException"/>
    /// whose one line names the run and the first difference. A new run's record gets the process's working directory
    /// when <paramref name="expected"/> names none: relative paths in the run's config (the zoo) are relative to it,
    /// so that later commands (export) resolve them from any directory.
    /// </summary>
    public bool CreateOrVerify(RunFingerprint expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var recorded = ReadFingerprint();
        if (recorded is null)
        {
            var record = expected.WorkingDirectory is null ? expected with { WorkingDirectory = Environment.CurrentDirectory } : expected;
            StoragePaths.WriteTextAtomically(FingerprintPath, JsonSerializer.Serialize(record, Json) + "\n");
            return true;
        }
        if (recorded.FirstDifference(expected) is { } difference)
        {
            throw new EvolverException($"run '{RunId}' belongs to {difference}");
        }
        return false;
    }

    /// <summary>
    /// Whether the run has started on exactly <paramref name="current"/> (its recorded fingerprint has no difference from
    /// it); false also where run.json cannot be read (<see cref="CreateOrVerify"/> then says why).
    /// </summary>
    public bool StartedFrom(RunFingerprint current)
    {
        try
        {
            return ReadFingerprint() is { } recorded && recorded.FirstDifference(current) is null;
        }
        catch (EvolverException)
        {
            return false;
        }
    }

    /// <summary>Keeps a copy of the config text the run was started or resumed with.</summary>
    public void WriteConfig(string text) => StoragePaths.WriteTextAtomically(ConfigPath, text);

    /// <summary>The config text recorded by <see cref="WriteConfig"/>, or null.</summary>
    public string? ReadConfig() => ReadText(ConfigPath);

    public override string ToString() => $"run '{RunId}' ({Root})";

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}
