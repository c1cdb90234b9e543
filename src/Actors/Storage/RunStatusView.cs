using System.Text.Json.Serialization;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// The run's status as <c>status.json</c> holds it, for <c>evolver status</c> and dashboards; rewritten
/// by the running process, and rebuilt from the journal after a crash. Best dev score is NaN before
/// the first evaluation (written as the JSON literal <c>NaN</c>).
/// </summary>
public sealed record RunStatusView(
    [property: JsonPropertyName("run")] string Run,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("evaluations")] long Evaluations,
    [property: JsonPropertyName("accepted")] long Accepted,
    [property: JsonPropertyName("rejected")] long Rejected,
    [property: JsonPropertyName("best_dev")] double BestDev,
    [property: JsonPropertyName("population_score")] double? PopulationScore,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("evals_per_s")] double EvalsPerS,
    [property: JsonPropertyName("eta_s")] double? EtaS,
    [property: JsonPropertyName("started_utc")] DateTime StartedUtc,
    [property: JsonPropertyName("updated_utc")] DateTime UpdatedUtc,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("schedule")] string Schedule)
{
    [JsonIgnore]
    public bool IsRunning => State == RunStates.Running;
}

/// <summary>The values of <see cref="RunStatusView.State"/>.</summary>
public static class RunStates
{
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Finished = "finished";
    public const string Failed = "failed";

    public static IReadOnlyList<string> All { get; } = [Running, Stopped, Finished, Failed];
}
