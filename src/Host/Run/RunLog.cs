using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EvolverActors.Host.Run;

/// <summary>
/// What a run node prints, also kept in its run directory's <c>run.log</c> (time-stamped; docs/architecture.md §6). With
/// <see cref="Json"/> every line, on the console and in the file, is one JSON object <c>{"time", "run", "message"}</c>
/// for log shippers. A terminal's rewritten progress line (<c>Write</c> without a newline) stays on the terminal.
/// </summary>
internal sealed class RunLog(TextWriter console, string path, string runId, bool json) : TextWriter
{
    public const string FileName = "run.log";

    private readonly Lock _gate = new();

    public bool Json => json;

    /// <summary>Whether the console is a terminal the progress line can be rewritten on.</summary>
    public bool ConsoleIsTerminal => !json && ReferenceEquals(console, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>A line for the file only (the terminal shows it as its rewritten progress line).</summary>
    public void FileOnly(string value)
    {
        lock (_gate)
        {
            Append(value);
        }
    }

    public override Encoding Encoding => console.Encoding;

    public override void WriteLine(string? value)
    {
        var line = json
            ? JsonSerializer.Serialize(new Dictionary<string, string?> { ["time"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture), ["run"] = runId, ["message"] = value })
            : value;
        lock (_gate)
        {
            console.WriteLine(line);
            Append(json ? line : value, stamped: !json);
        }
    }

    private void Append(string? line, bool stamped = true)
    {
        try
        {
            File.AppendAllText(path, (stamped ? $"{DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)} {line}" : line) + "\n");
        }
        catch (IOException)
        {
            // A full disk is the journal's to report (it stops the run); the console still has the line.
        }
    }

    public override void WriteLine() => WriteLine(string.Empty);

    public override void Write(string? value)
    {
        if (json)
        {
            return; // no terminal redraws among JSON lines
        }
        lock (_gate)
        {
            console.Write(value);
        }
    }

    public override void Write(char value) => Write(value.ToString());

    public override void Flush() => console.Flush();
}
