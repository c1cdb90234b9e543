using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Tasks;
using Xunit;

namespace EvolverActors.Tensors.Tests.Data;

/// <summary>The guard's share of dev (docs/architecture.md §1, "The guard"): held out by class, fixed by the run's seed.</summary>
public sealed class GuardSplitTests
{
    private static TaskData Data(int examples)
    {
        var texts = Enumerable.Range(0, examples).Select(i => $"text {i}").ToList();
        var labels = Enumerable.Range(0, examples).Select(i => i % 3).ToList();
        var dev = new TextSet("dev", texts, labels, ["a", "b", "c"]);
        return new TaskData(dev, dev with { Name = "test" }, null, new ImageBatcher());
    }

    [Fact]
    public void Dev_is_cut_into_a_selection_part_and_a_guard_that_share_no_example_and_keep_the_class_shares()
    {
        var data = Data(300).WithGuard(0.3, seed: 7);
        Assert.Equal(210, data.Dev.Count);
        Assert.Equal(90, data.Guard!.Count);
        var dev = ((TextSet)data.Dev).Texts.ToHashSet();
        var guard = ((TextSet)data.Guard).Texts.ToHashSet();
        Assert.Empty(dev.Intersect(guard));
        Assert.Equal(300, dev.Count + guard.Count);
        Assert.All(Enumerable.Range(0, 3), c => Assert.Equal(30, data.Guard.Labels.Count(l => l == c)));
        Assert.Equal(["dev", PopulationFitness.GuardSplit, "test"], data.Splits.Select(s => s.Name));
    }

    [Fact]
    public void The_same_seed_holds_out_the_same_examples_and_another_seed_others()
    {
        var a = ((TextSet)Data(300).WithGuard(0.3, seed: 7).Guard!).Texts;
        var b = ((TextSet)Data(300).WithGuard(0.3, seed: 7).Guard!).Texts;
        var c = ((TextSet)Data(300).WithGuard(0.3, seed: 8).Guard!).Texts;
        Assert.Equal(a, b);
        Assert.NotEqual(a.Order(), c.Order());
    }

    [Fact]
    public void A_dev_split_too_small_to_hold_a_guard_out_is_refused_in_one_line()
    {
        var e = Assert.Throws<EvolverException>(() => Data(2).WithGuard(0.1, seed: 1));
        Assert.Contains("dev has 2 examples", e.Message, StringComparison.Ordinal);
    }
}
