using System.Text;
using EvolverActors.Tensors.Assets;
using nietras.SeparatedValues;

namespace EvolverActors.Tensors.Data;

/// <summary>The labelled two-class corpora of pattern's test suite (Debian <c>python3-pattern</c>).</summary>
public enum PatternCorpus
{
    /// <summary>Pang &amp; Lee sentence polarity v1.0, English movie-review sentences (<c>polarity-en-pang&amp;lee2.csv</c>).</summary>
    EnglishMovieSentences,

    /// <summary>Pang &amp; Lee polarity v2.0, English full movie reviews (<c>polarity-en-pang&amp;lee1.csv</c>).</summary>
    EnglishMovieReviews,

    /// <summary>Dutch book reviews from bol.com (<c>polarity-nl-bol.com.csv</c>).</summary>
    DutchBookReviews,

    /// <summary>French reviews from amazon.fr (<c>polarity-fr-amazon.csv</c>, columns text,label).</summary>
    FrenchReviews,

    /// <summary>German book reviews from amazon.de (<c>polarity-de-amazon.csv</c>).</summary>
    GermanBookReviews,

    /// <summary>CoNLL 2010 Wikipedia hedge detection, certain vs uncertain sentences (<c>uncertainty-conll2010.csv</c>).</summary>
    EnglishUncertainty,

    /// <summary>Apache SpamAssassin messages, ham vs spam (<c>spam-apache.csv</c>).</summary>
    EnglishSpam,
}

/// <summary>
/// Reads pattern's corpora: quoted CSV (UTF-8 with a BOM, CRLF, newlines and doubled quotes inside fields),
/// one label of 1 or −1 and one text per row. Class 0 is the −1 label, class 1 the 1 label.
/// </summary>
public static class PatternCorpora
{
    private sealed record Layout(string Name, string File, int LabelColumn, string Negative, string Positive);

    private static Layout Describe(PatternCorpus corpus) => corpus switch
    {
        PatternCorpus.EnglishMovieSentences => new("en-movie-sentences", "polarity-en-pang&lee2.csv", 0, "negative", "positive"),
        PatternCorpus.EnglishMovieReviews => new("en-movie-reviews", "polarity-en-pang&lee1.csv", 0, "negative", "positive"),
        PatternCorpus.DutchBookReviews => new("nl-book-reviews", "polarity-nl-bol.com.csv", 0, "negative", "positive"),
        PatternCorpus.FrenchReviews => new("fr-reviews", "polarity-fr-amazon.csv", 1, "negative", "positive"),
        PatternCorpus.GermanBookReviews => new("de-book-reviews", "polarity-de-amazon.csv", 0, "negative", "positive"),
        // pattern's own test reads this column as "certain" (1) and the spam column as "ham" (1).
        PatternCorpus.EnglishUncertainty => new("en-uncertainty", "uncertainty-conll2010.csv", 0, "uncertain", "certain"),
        PatternCorpus.EnglishSpam => new("en-spam-apache", "spam-apache.csv", 0, "spam", "ham"),
        _ => throw new ArgumentOutOfRangeException(nameof(corpus), corpus, "unknown pattern corpus"),
    };

    /// <summary>The file name of <paramref name="corpus"/> under <see cref="AssetStore.PatternCorporaDirectory"/>.</summary>
    public static string FileName(PatternCorpus corpus) => Describe(corpus).File;

    /// <summary>The set name, e.g. <c>en-movie-sentences</c>.</summary>
    public static string SetName(PatternCorpus corpus) => Describe(corpus).Name;

    /// <summary>All rows of <paramref name="corpus"/>, in file order.</summary>
    public static TextSet Load(AssetStore store, PatternCorpus corpus)
    {
        var layout = Describe(corpus);
        return Read(Path.Combine(store.PatternCorporaDirectory, layout.File), layout);
    }

    private static TextSet Read(string path, Layout layout)
    {
        var texts = new List<string>();
        var labels = new List<int>();
        // StreamReader drops the BOM; Sep handles quotes, doubled quotes and newlines inside fields.
        using var text = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        using var reader = Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true }).From(text);
        var row = 0;
        foreach (var record in reader)
        {
            row++;
            if (record.ColCount != 2)
            {
                throw new EvolverException($"{path}: row {row} has {record.ColCount} columns, expected 2 (label and text)");
            }
            var label = record[layout.LabelColumn].ToString().Trim();
            labels.Add(label switch
            {
                "-1" => 0,
                "1" => 1,
                _ => throw new EvolverException($"{path}: row {row} has label '{label}', expected 1 or -1"),
            });
            texts.Add(record[1 - layout.LabelColumn].ToString());
        }
        return new TextSet(layout.Name, texts, labels, [layout.Negative, layout.Positive]);
    }
}
