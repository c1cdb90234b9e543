using System.ComponentModel;
using System.Diagnostics;

namespace EvolverActors.Tensors.Assets;

/// <summary>The outcome of one external command: exit code and captured output.</summary>
internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The command's complaint squeezed onto one short line, for an exception message.</summary>
    public string Summary(string command)
    {
        var text = string.IsNullOrWhiteSpace(StandardError) ? StandardOutput : StandardError;
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            // Drop noise that says nothing about the cause: apt's sandbox warning as root, npm's log pointer.
            .Where(l => !l.StartsWith("W: Download is performed unsandboxed", StringComparison.Ordinal)
                && !l.Contains("A complete log of this run", StringComparison.Ordinal));
        return $"{command} exited {ExitCode}: {OneLine(string.Join(" / ", lines), 240)}";
    }

    internal static string OneLine(string text, int max)
    {
        var flat = text.ReplaceLineEndings(" ").Trim();
        return flat.Length <= max ? flat : flat[..max] + "...";
    }
}

/// <summary>Runs the ordinary package clients (npm, apt-get, dpkg) with a timeout and captured output.</summary>
internal static class ProcessRunner
{
    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.
    /// Returns null when the program is not installed; a timed-out command is killed with its children.
    /// </summary>
    public static ProcessResult? Run(string file, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // npm would otherwise print update notices and progress bars into the captured output.
        info.Environment["NO_UPDATE_NOTIFIER"] = "1";
        info.Environment["npm_config_update_notifier"] = "false";
        info.Environment["npm_config_progress"] = "false";
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        }
        catch (Win32Exception)
        {
            return null;
        }

        using (process)
        {
            process.StandardInput.Close();
            // Read both pipes concurrently so a chatty command cannot block on a full pipe.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It exited between the timeout and the kill.
                }
                process.WaitForExit();
                return new ProcessResult(-1, stdout.Result, $"timed out after {timeout.TotalSeconds:0} s. " + stderr.Result);
            }
            process.WaitForExit();
            return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
