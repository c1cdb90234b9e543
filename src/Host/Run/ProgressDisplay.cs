using System.Globalization;
using EvolverActors.Actors.Steward;

namespace EvolverActors.Host.Run;

/// <summary>Live progress: one rewritten line on a terminal, plain log lines (at most every 5 s) otherwise.</summary>
internal sealed class ProgressDisplay(TextWriter output, string runId, long maxEvaluations)
{
    private readonly bool _terminal = output is RunLog log ? log.ConsoleIsTerminal : ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    private DateTime _lastLine = DateTime.MinValue;
    private long _lastEvaluations = -1;

    public void Show(RunProgress p)
    {
        var eta = p.EtaSeconds is { } s ? TimeSpan.FromSeconds(Math.Round(s)).ToString("c", CultureInfo.InvariantCulture) : "?";
        var line = string.Create(CultureInfo.InvariantCulture,
            $"[{runId}] {p.State}: {p.Evaluations}/{(p.MaxEvaluations > 0 ? p.MaxEvaluations : maxEvaluations)} evaluations, {p.Accepted} accepted, best dev {p.BestDev:F4}, v{p.Version}, {p.EvaluationsPerSecond:F1} evals/s, ETA {eta}");
        if (_terminal)
        {
            output.Write("\r" + line.PadRight(Math.Max(0, Console.WindowWidth - 1)));
            if (output is RunLog log && DateTime.UtcNow - _lastLine > TimeSpan.FromSeconds(5))
            {
                log.FileOnly(line); // the run's log file gets the progress a terminal shows in place
                _lastLine = DateTime.UtcNow;
            }
            return;
        }
        if (p.Evaluations != _lastEvaluations && DateTime.UtcNow - _lastLine > TimeSpan.FromSeconds(5))
        {
            output.WriteLine(line);
            (_lastLine, _lastEvaluations) = (DateTime.UtcNow, p.Evaluations);
        }
    }

    public void Finish(RunEnded end)
    {
        if (_terminal)
        {
            output.WriteLine();
        }
        output.WriteLine($"[{runId}] {end.State}: {end.Reason}");
    }
}
