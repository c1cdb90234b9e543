using System.Diagnostics;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Bench;

/// <summary>How a benchmark starts this same executable as a child `evolver` process (the apphost, or `dotnet evolver.dll`).</summary>
internal static class EvolverChild
{
    /// <summary>A start info for `evolver <paramref name="args"/>` with stdout and stderr redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var self = Environment.ProcessPath ?? throw new EvolverException("cannot find the evolver executable");
        var info = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(EvolverChild).Assembly.Location);
        }
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }
}
