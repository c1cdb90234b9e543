namespace EvolverActors.Host.Http;

/// <summary>The live page (RunPage.html, embedded): everything it needs is in it, nothing is fetched from the internet.</summary>
internal static class RunPage
{
    public static string Html { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(RunPage).Assembly.GetManifestResourceStream("EvolverActors.Host.Http.RunPage.html")
            ?? throw new InvalidOperationException("RunPage.html is not embedded in this build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
