using System.Diagnostics;
using Xunit;

namespace EvolverActors.Tests.Operations;

/// <summary>
/// Debian's headless Chromium (<c>/usr/bin/chromium</c>, which .ci/run installs): the DOM of a page once its scripts
/// have run, and a screenshot kept among the test artifacts (<c>TestResults/screenshots/</c> at the repository root).
/// </summary>
internal static class Chromium
{
    public const string Executable = "/usr/bin/chromium";

    /// <summary>The page's DOM after about four seconds of its scripts (a few polls of its status).</summary>
    public static string DumpDom(string url, string profile) => Run(profile, "--virtual-time-budget=4000", "--dump-dom", url);

    /// <summary>Writes a 1280×900 screenshot of the page to the artifacts folder and returns its path.</summary>
    public static string Screenshot(string url, string profile, string fileName)
    {
        var folder = Path.Combine(RepositoryRoot(), "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, fileName);
        Run(profile, "--virtual-time-budget=4000", "--window-size=1280,900", "--hide-scrollbars", $"--screenshot={path}", url);
        Assert.True(File.Exists(path), $"chromium wrote no screenshot to {path}");
        return path;
    }

    private static string Run(string profile, params string[] args)
    {
        if (!File.Exists(Executable))
        {
            Assert.Skip($"{Executable} is not installed (.ci/run installs Debian's chromium for this test)");
        }
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", $"--user-data-dir={profile}", .. args])
        {
            info.ArgumentList.Add(arg);
        }
        using var chromium = Process.Start(info)!;
        var stderr = chromium.StandardError.ReadToEndAsync();
        var stdout = chromium.StandardOutput.ReadToEnd();
        if (!chromium.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            chromium.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish within 60 s");
        }
        Assert.True(chromium.ExitCode == 0, $"chromium exited with {chromium.ExitCode}: {stderr.Result}");
        return stdout;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EvolverActors.sln")))
            {
                return dir.FullName;
            }
        }
        return Path.GetTempPath();
    }
}
