using EvolverActors.Actors.Run;

namespace EvolverActors.Actors.Evaluation;

/// <summary>
/// One evaluator's failure streak, as plain data: <see cref="RunSettings.MaxConsecutiveFailures"/> failed scores in a
/// row retire it, a success resets the count. Errors are kept as one line (libtorch messages carry a C++ backtrace
/// after the first line), so logs and the run's end reason stay one line each.
/// </summary>
public sealed class EvaluatorHealth(string name, int maxConsecutiveFailures)
{
    /// <summary>The longest error text kept (a reason names the evaluator and its last error, nothing more).</summary>
    public const int MaxErrorLength = 300;

    public int ConsecutiveFailures { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>Why the evaluator is retired, or null while it is healthy.</summary>
    public string? RetiredReason { get; private set; }

    public bool Retired => RetiredReason is not null;

    public void Succeeded() => ConsecutiveFailures = 0;

    /// <summary>Counts a failed score; true when this failure retires the evaluator.</summary>
    public bool Failed(string error)
    {
        if (Retired)
        {
            return false;
        }
        LastError = OneLine(error);
        ConsecutiveFailures++;
        if (ConsecutiveFailures < maxConsecutiveFailures)
        {
            return false;
        }
        RetiredReason = $"evaluator '{name}' retired after {ConsecutiveFailures} consecutive failures: {LastError}";
        return true;
    }

    /// <summary>An evaluator whose device or fitness could not even be set up is retired at once.</summary>
    public void CouldNotStart(string error)
    {
        LastError = OneLine(error);
        RetiredReason = $"evaluator '{name}' could not start: {LastError}";
    }

    /// <summary>The first non-empty line of <paramref name="text"/>, at most <see cref="MaxErrorLength"/> characters.</summary>
    public static string OneLine(string text)
    {
        var line = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "(no message)";
        return line.Length <= MaxErrorLength ? line : string.Concat(line.AsSpan(0, MaxErrorLength - 1), "…");
    }
}
