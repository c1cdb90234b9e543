using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvolverActors.Actors.Storage;

/// <summary>
/// The run's status as <c>status.json</c> holds it, for <c>evolver status</c> and dashboards; rewritten
/// by the running process, and rebuilt from the journal after a crash. Best dev score is NaN before
/// the first evaluation: a score that is not a finite number is written as JSON <c>null</c> (plain JSON has no NaN,
/// and every reader parses it) and read back as NaN, whatever serializer options are used. <c>start_token</c> tells
/// the writing process from a later one given the same pid (see <see cref="ProcessLiveness.StartToken"/>).
/// </summary>
public sealed record RunStatusView(
    [property: JsonPropertyName("run")] string Run,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("evaluations")] long Evaluations,
    [property: JsonPropertyName("accepted")] long Accepted,
    [property: JsonPropertyName("rejected")] long Rejected,
    [property: JsonPropertyName("best_dev"), JsonConverter(typeof(FiniteOrNullJsonConverter))] double BestDev,
    [property: JsonPropertyName("population_score"), JsonConverter(typeof(FiniteOrNullJsonConverter))] double? PopulationScore,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("evals_per_s"), JsonConverter(typeof(FiniteOrNullJsonConverter))] double EvalsPerS,
    [property: JsonPropertyName("eta_s"), JsonConverter(typeof(FiniteOrNullJsonConverter))] double? EtaS,
    [property: JsonPropertyName("started_utc")] DateTime StartedUtc,
    [property: JsonPropertyName("updated_utc")] DateTime UpdatedUtc,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("schedule")] string Schedule,
    [property: JsonPropertyName("failed")] long Failed = 0,
    [property: JsonPropertyName("start_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StartToken = null,
    [property: JsonPropertyName("members")] int Members = 0,
    [property: JsonPropertyName("http"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Http = null)
{
    /// <summary>Whether the writing process says it runs the run (paused included: it still holds it).</summary>
    [JsonIgnore]
    public bool IsRunning => State is RunStates.Running or RunStates.Paused or RunStates.Starting;
}

/// <summary>The values of <see cref="RunStatusView.State"/>.</summary>
public static class RunStates
{
    public const string Running = "running";

    /// <summary>The process holds the run and is starting (recovering its journal, adopting weights) before its first status.</summary>
    public const string Starting = "starting";

    /// <summary>Running, but handing out no work (the operator paused it; docs/architecture.md §6).</summary>
    public const string Paused = "paused";
    public const string Stopped = "stopped";
    public const string Finished = "finished";
    public const string Failed = "failed";

    /// <summary>
    /// Never written: what <c>evolver status</c> reports for a status that says running while its process is gone
    /// (kill -9, a crash, power loss: no final status was written). The run is resumable.
    /// </summary>
    public const string Interrupted = "interrupted";

    public static IReadOnlyList<string> All { get; } = [Starting, Running, Paused, Stopped, Finished, Failed, Interrupted];
}

/// <summary>
/// A score in <c>status.json</c>: a finite number as a number, NaN and ±∞ as <c>null</c>. Reads <c>null</c> as NaN,
/// and also the quoted <c>"NaN"</c>/<c>"Infinity"</c> that status files of older versions hold.
/// </summary>
public sealed class FiniteOrNullJsonConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => double.NaN,
        JsonTokenType.Number => reader.GetDouble(),
        JsonTokenType.String when double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) => value,
        _ => throw new JsonException($"a score must be a number or null, not {reader.TokenType}"),
    };

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
