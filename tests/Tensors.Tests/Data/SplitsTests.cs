using EvolverActors.Tensors.Data;
using Xunit;

namespace EvolverActors.Tests.Data;

public sealed class SplitsTests
{
    /// <summary>1 000 labels over 10 classes of unequal size (55 … 145), in class order like MNIST.</summary>
    private static int[] SkewedLabels() =>
        [.. Enumerable.Range(0, 10).SelectMany(c => Enumerable.Repeat(c, 55 + 10 * c))];

    private static TextSet Texts(int[] labels) =>
        new("toy", [.. labels.Select((l, i) => $"text {i} of class {l}")], labels, [.. Enumerable.Range(0, 10).Select(c => $"c{c}")]);

    [Fact]
    public void Dirichlet_assigns_every_index_exactly_once()
    {
        var labels = SkewedLabels();

        var parts = Splits.Dirichlet(labels, 10, clients: 7, alpha: 0.3, seed: 1);

        Assert.Equal(7, parts.Length);
        Assert.Equal(Enumerable.Range(0, labels.Length), parts.SelectMany(p => p).Order());
    }

    [Fact]
    public void Dirichlet_is_deterministic_by_seed()
    {
        var labels = SkewedLabels();

        var a = Splits.Dirichlet(labels, 10, 5, 0.5, seed: 42);
        var b = Splits.Dirichlet(labels, 10, 5, 0.5, seed: 42);
        var c = Splits.Dirichlet(labels, 10, 5, 0.5, seed: 43);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(0.1, 0.5, 1.0)]
    [InlineData(100, 0.0, 0.25)]
    public void Dirichlet_concentration_sets_how_skewed_clients_are(double alpha, double minTopShare, double maxTopShare)
    {
        var labels = SkewedLabels();
        var shares = new List<double>();
        for (var seed = 0; seed < 5; seed++)
        {
            foreach (var part in Splits.Dirichlet(labels, 10, 10, alpha, seed).Where(p => p.Length > 0))
            {
                shares.Add(part.GroupBy(i => labels[i]).Max(g => g.Count()) / (double)part.Length);
            }
        }

        // Uniform classes would give a top share near 0.1-0.15; α = 0.1 gives clients dominated by one class.
        Assert.InRange(shares.Average(), minTopShare, maxTopShare);
    }

    [Fact]
    public void Dirichlet_redraws_until_every_client_has_its_minimum()
    {
        var parts = Splits.Dirichlet(SkewedLabels(), 10, 10, alpha: 0.1, seed: 3, minPerClient: 20);

        Assert.All(parts, p => Assert.True(p.Length >= 20));
    }

    [Fact]
    public void Dirichlet_sample_sums_to_one_even_for_tiny_alpha()
    {
        var random = new Random(5);
        foreach (var alpha in new[] { 1e-3, 0.1, 1, 50 })
        {
            var p = Splits.DirichletSample(random, alpha, 8);
            Assert.Equal(1.0, p.Sum(), 9);
            Assert.All(p, v => Assert.InRange(v, 0, 1));
        }
    }

    [Fact]
    public void Gamma_variates_have_the_shape_as_mean()
    {
        var random = new Random(11);
        foreach (var shape in new[] { 0.3, 1.0, 4.0 })
        {
            var mean = Enumerable.Range(0, 20_000).Average(_ => Math.Exp(Splits.LogGamma(random, shape)));
            Assert.InRange(mean, shape * 0.95, shape * 1.05);
        }
    }

    [Fact]
    public void Stratified_split_is_disjoint_covers_all_and_keeps_class_shares()
    {
        var set = Texts(SkewedLabels());

        var parts = Splits.Stratified(set, [("train", 0.7), ("dev", 0.1), ("test", 0.2)], seed: 9);

        var all = parts.Values.SelectMany(p => p.Texts).ToList();
        Assert.Equal(set.Count, all.Count);
        Assert.Equal(set.Texts.Order(), all.Order());
        Assert.Equal("toy-train", parts["train"].Name);
        Assert.Equal(700, parts["train"].Count);
        Assert.Equal(100, parts["dev"].Count);
        foreach (var (name, fraction) in new[] { ("train", 0.7), ("dev", 0.1), ("test", 0.2) })
        {
            var counts = RealData.ClassCounts(parts[name]);
            var whole = RealData.ClassCounts(set);
            for (var c = 0; c < 10; c++)
            {
                Assert.InRange(counts[c], whole[c] * fraction - 1, whole[c] * fraction + 1);
            }
        }
        // Labels travel with their texts.
        Assert.All(parts["test"].Texts.Select((text, i) => (Text: text, Label: parts["test"].Labels[i])), p => Assert.EndsWith($"class {p.Label}", p.Text));
    }

    [Fact]
    public void Stratified_split_is_deterministic_and_shuffled()
    {
        var labels = SkewedLabels();

        var a = Splits.StratifiedIndices(labels, 10, [0.5, 0.5], seed: 1);
        var b = Splits.StratifiedIndices(labels, 10, [0.5, 0.5], seed: 1);

        Assert.Equal(a, b);
        Assert.NotEqual(a[0].Order(), a[0]);
        Assert.Throws<ArgumentException>(() => Splits.StratifiedIndices(labels, 10, [0.5, 0.6], 1));
    }

    [Fact]
    public void Balanced_subset_takes_the_same_number_of_each_class()
    {
        var set = Texts(SkewedLabels());

        var subset = Splits.BalancedSubset(set, perClass: 50, seed: 2);

        Assert.Equal(Enumerable.Repeat(50, 10), RealData.ClassCounts(subset));
        Assert.Equal(500, subset.Texts.Distinct().Count());
        Assert.Throws<Tensors.EvolverException>(() => Splits.BalancedSubset(set, perClass: 56, seed: 2));
    }

    [Fact]
    public void Partitions_of_real_mnist_cover_it_and_stay_label_skewed()
    {
        var mnist = RealData.Mnist;

        var clients = Splits.DirichletPartition(mnist, clients: 10, alpha: 0.1, seed: 7);

        Assert.Equal(10_000, clients.Sum(c => c.Count));
        Assert.Equal("mnist-client0", clients[0].Name);
        Assert.True(clients.Where(c => c.Count > 0).Average(c => RealData.ClassCounts(c).Max() / (double)c.Count) > 0.5);
    }
}
