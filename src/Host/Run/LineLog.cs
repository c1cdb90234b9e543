using System.Globalization;

namespace EvolverActors.Host.Run;

/// <summary>Appends time-stamped lines to a file, from any thread (a run's evaluators.log).</summary>
internal sealed class LineLog(string path)
{
    private readonly Lock _gate = new();

    public void Write(string line)
    {
        var stamped = $"{DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)} {line}\n";
        try
        {
            lock (_gate)
            {
                File.AppendAllText(path, stamped);
            }
        }
        catch (IOException)
        {
            // A full disk must not take an evaluator down with it; the line is lost.
        }
    }
}
