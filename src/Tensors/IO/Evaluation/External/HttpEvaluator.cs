using System.Net.Http.Json;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>POSTs the request object (<c>{"checkpoint": DIR, "split": ...}</c>) to an endpoint and reads the JSON reply.</summary>
public sealed class HttpEvaluator(string name, Uri endpoint, TimeSpan timeout, HttpClient? client = null) : ICheckpointScorer
{
    private readonly HttpClient _client = client ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
    private readonly bool _ownsClient = client is null;

    public string Name { get; } = name;

    public async Task<ExternalScore> ScoreAsync(ScoreRequest request, CancellationToken cancellation = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            var body = new Dictionary<string, string> { ["checkpoint"] = request.Checkpoint, ["split"] = request.Split };
            using var response = await _client.PostAsJsonAsync(endpoint, body, deadline.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new EvaluatorException(Name, $"{endpoint} answered HTTP {(int)response.StatusCode}: {Truncate(text)}");
            }
            return ScoreReply.Parse(Name, text);
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

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text.Trim() : text[..200].Trim() + "…";
}
