using System.Globalization;
using System.Text.Json;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>A failure of an evaluator (timeout, crash, malformed reply): names the evaluator, one line.</summary>
public sealed class EvaluatorException(string evaluator, string problem) : EvolverException($"evaluator '{evaluator}': {problem}")
{
    public string Evaluator { get; } = evaluator;
}

/// <summary>
/// One request of the external evaluator protocol (docs/external-evaluators.md): score the Hugging Face checkpoint
/// in <see cref="Checkpoint"/> on <see cref="Split"/> (<c>dev</c> selects; <c>test</c> and <c>ood</c> only report).
/// </summary>
public sealed record ScoreRequest(string Checkpoint, string Split = PopulationFitness.DevSplit)
{
    /// <summary>The request as one line of JSON; <paramref name="id"/> lets a worker's reply be matched to it.</summary>
    public string ToJson(long? id = null)
    {
        var body = new Dictionary<string, object> { ["checkpoint"] = Checkpoint, ["split"] = Split };
        if (id is { } n)
        {
            body["id"] = n;
        }
        return JsonSerializer.Serialize(body);
    }
}

/// <summary>What an external evaluator returns: the selection score and any other numbers it reported.</summary>
public sealed record ExternalScore(double Score, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// The external evaluator contract: the evaluator receives a checkpoint directory (Hugging Face safetensors) and a
/// split, and answers one JSON object with a finite number "score" (higher is better) and optionally other numbers.
/// Implementations: <see cref="WorkerEvaluator"/> (a long-lived process), <see cref="CommandEvaluator"/> (a process
/// per candidate), <see cref="HttpEvaluator"/> (POST).
/// </summary>
public interface ICheckpointScorer : IDisposable
{
    string Name { get; }
    Task<ExternalScore> ScoreAsync(ScoreRequest request, CancellationToken cancellation = default);
}

/// <summary>Parses and checks an evaluator's JSON reply.</summary>
public static class ScoreReply
{
    public static ExternalScore Parse(string evaluator, string text, long? expectedId = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            var shown = text.Length <= 120 ? text : text[..120] + "…";
            throw new EvaluatorException(evaluator, $"reply is not a JSON object: '{shown}'");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new EvaluatorException(evaluator, "reply is JSON but not an object with a \"score\"");
            }
            if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
            {
                throw new EvaluatorException(evaluator, $"reported an error: {error.GetString()}");
            }
            if (expectedId is { } id && document.RootElement.TryGetProperty("id", out var replyId)
                && (replyId.ValueKind != JsonValueKind.Number || !replyId.TryGetInt64(out var got) || got != id))
            {
                throw new EvaluatorException(evaluator, $"reply id {replyId} does not match request {id}");
            }
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Number && property.Name != "id")
                {
                    metrics[property.Name] = property.Value.GetDouble();
                }
            }
            if (!metrics.TryGetValue("score", out var score))
            {
                throw new EvaluatorException(evaluator, "reply has no number \"score\"");
            }
            if (!double.IsFinite(score))
            {
                throw new EvaluatorException(evaluator, $"reply score {score.ToString(CultureInfo.InvariantCulture)} is not finite");
            }
            return new ExternalScore(score, metrics);
        }
    }
}
