using System.Diagnostics;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// Runs a command per candidate: <c>{checkpoint}</c> and <c>{split}</c> in the arguments are replaced (the checkpoint
/// directory is appended when no argument names it), the request object is written to its stdin as one JSON line,
/// and the last non-empty line of its stdout is the reply. A command over its timeout is killed with its children.
/// </summary>
public sealed class CommandEvaluator(string name, string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
    IReadOnlyDictionary<string, string>? environment = null) : ICheckpointScorer
{
    public string Name { get; } = name;

    public async Task<ExternalScore> ScoreAsync(ScoreRequest request, CancellationToken cancellation = default)
    {
        var start = ProcessStarts.For(fileName, environment);
        var substituted = false;
        foreach (var argument in arguments)
        {
            substituted |= argument.Contains("{checkpoint}", StringComparison.Ordinal);
            start.ArgumentList.Add(argument.Replace("{checkpoint}", request.Checkpoint, StringComparison.Ordinal)
                .Replace("{split}", request.Split, StringComparison.Ordinal));
        }
        if (!substituted)
        {
            start.ArgumentList.Add(request.Checkpoint);
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
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        try
        {
            await process.StandardInput.WriteLineAsync(request.ToJson().AsMemory(), cancellation).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command need not read its stdin; it may have exited already.
        }
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
            throw new EvaluatorException(Name, $"timed out after {timeout.TotalSeconds:0.#} s scoring {request.Checkpoint}");
        }
        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new EvaluatorException(Name, $"exited with code {process.ExitCode}: {ProcessStarts.LastLine(errors) ?? "(no stderr)"}");
        }
        return ScoreReply.Parse(Name, ProcessStarts.LastLine(output) ?? "");
    }

    public void Dispose()
    {
        // Nothing outlives a call.
    }
}

/// <summary>How external evaluator processes are started (redirected streams, no shell, extra environment).</summary>
internal static class ProcessStarts
{
    public static ProcessStartInfo For(string fileName, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return start;
    }

    public static string? LastLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
}
