using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>A failure of an evaluator (timeout, crash, malformed reply): names the evaluator, one line.</summary>
public sealed class EvaluatorException(string evaluator, string problem) : EvolverException($"evaluator '{evaluator}': {problem}")
{
    public string Evaluator { get; } = evaluator;
}

/// <summary>What an external evaluator returns: the selection score and any other numbers it reported.</summary>
public sealed record ExternalScore(double Score, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// The external evaluator contract: the evaluator receives a checkpoint directory (Hugging Face safetensors) and
/// answers one JSON object with a finite number "score" (higher is better) and optionally other numbers.
/// </summary>
public interface ICheckpointScorer
{
    string Name { get; }
    Task<ExternalScore> ScoreAsync(string checkpointDirectory, CancellationToken cancellation = default);
}

/// <summary>
/// Runs a command per checkpoint: "{checkpoint}" in the arguments is replaced by the directory (appended when
/// absent). The last non-empty line of stdout is the JSON reply. A command over its timeout is killed with its
/// children.
/// </summary>
public sealed class CommandEvaluator(string name, string fileName, IReadOnlyList<string> arguments, TimeSpan timeout) : ICheckpointScorer
{
    public string Name { get; } = name;

    public async Task<ExternalScore> ScoreAsync(string checkpointDirectory, CancellationToken cancellation = default)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var substituted = false;
        foreach (var argument in arguments)
        {
            substituted |= argument.Contains("{checkpoint}", StringComparison.Ordinal);
            start.ArgumentList.Add(argument.Replace("{checkpoint}", checkpointDirectory, StringComparison.Ordinal));
        }
        if (!substituted)
        {
            start.ArgumentList.Add(checkpointDirectory);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new EvaluatorException(Name, $"cannot start '{fileName}': {e.Message}");
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellation.IsCancellationRequested)
            {
                throw;
            }
            throw new EvaluatorException(Name, $"timed out after {timeout.TotalSeconds:0.#} s scoring {checkpointDirectory}");
        }
        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            var lastError = LastLine(errors) ?? "(no stderr)";
            throw new EvaluatorException(Name, $"exited with code {process.ExitCode}: {lastError}");
        }
        return ScoreReply.Parse(Name, LastLine(output) ?? "");
    }

    private static string? LastLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
}

/// <summary>POSTs <c>{"checkpoint": "&lt;dir&gt;"}</c> to an endpoint and reads the JSON reply.</summary>
public sealed class HttpEvaluator(string name, Uri endpoint, TimeSpan timeout, HttpClient? client = null) : ICheckpointScorer
{
    private readonly HttpClient _client = client ?? new HttpClient();

    public string Name { get; } = name;

    public async Task<ExternalScore> ScoreAsync(string checkpointDirectory, CancellationToken cancellation = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await _client.PostAsJsonAsync(endpoint, new Dictionary<string, string> { ["checkpoint"] = checkpointDirectory }, deadline.Token)
                .ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new EvaluatorException(Name, $"{endpoint} answered HTTP {(int)response.StatusCode}: {Truncate(body)}");
            }
            return ScoreReply.Parse(Name, body);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new EvaluatorException(Name, $"{endpoint} did not answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            throw new EvaluatorException(Name, $"{endpoint} cannot be reached: {e.Message}");
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text.Trim() : text[..200].Trim() + "…";
}

/// <summary>Parses and checks an evaluator's JSON reply.</summary>
public static class ScoreReply
{
    public static ExternalScore Parse(string evaluator, string text)
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
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Number)
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
