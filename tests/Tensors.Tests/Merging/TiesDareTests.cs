using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Merging.MergeTestData;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Merging;

/// <summary>ties and dare on hand-computed tiny tensors.</summary>
public sealed class TiesDareTests
{
    // Base 1 everywhere; task vectors
    //   τ1 = [ 1.0, -0.2,  0.5, -2.0]
    //   τ2 = [-1.9,  2.0, -4.0,  0.1]
    //   τ3 = [-1.5, -3.0,  1.0,  2.5]
    private static readonly float[] Tau1 = [1.0f, -0.2f, 0.5f, -2.0f];
    private static readonly float[] Tau2 = [-1.9f, 2.0f, -4.0f, 0.1f];
    private static readonly float[] Tau3 = [-1.5f, -3.0f, 1.0f, 2.5f];

    private static WeightSet FromBase(float[] tau) => Vector([.. tau.Select(t => 1 + t)]);

    [Fact]
    public void Ties_trims_elects_signs_and_takes_the_disjoint_mean()
    {
        // density 0.5 keeps the 2 largest magnitudes of each task vector:
        //   τ1 → [1, 0, 0, -2]   τ2 → [0, 2, -4, 0]   τ3 → [0, -3, 0, 2.5]
        // Σ trimmed = [1, -1, -4, 0.5] → elected signs [+, -, -, +].
        // (Untrimmed, element 0 sums to -2.4 and would elect -: trimming matters.)
        // Disjoint means over agreeing values: [1, -3, -4, 2.5] (element 3's -2 disagrees).
        // base + 1·merged = [2, -2, -3, 3.5]
        using var baseModel = Vector(1, 1, 1, 1);
        using var a = FromBase(Tau1);
        using var b = FromBase(Tau2);
        using var c = FromBase(Tau3);
        var ties = MergeRegistry.Get("ties", ["density=0.5"]);

        using var merged = ties.Merge([a, b, c], new MergeInputs { Base = baseModel });

        AssertClose([2, -2, -3, 3.5f], merged["w"]);
    }

    [Fact]
    public void Ties_without_trimming_averages_the_values_that_agree_with_the_elected_sign()
    {
        // density 1 keeps everything: Σ = [-2.4, -1.2, -2.5, 0.6] → signs [-, -, -, +]
        // agreeing means: [(-1.9-1.5)/2, (-0.2-3)/2, -4, (0.1+2.5)/2] = [-1.7, -1.6, -4, 1.3]
        // base + 0.5·merged = [0.15, 0.2, -1, 1.65]
        using var baseModel = Vector(1, 1, 1, 1);
        using var a = FromBase(Tau1);
        using var b = FromBase(Tau2);
        using var c = FromBase(Tau3);
        var ties = new TiesMerge(new TiesOptions(Density: 1, Lambda: 0.5));

        using var merged = ties.Merge([a, b, c], new MergeInputs { Base = baseModel });

        AssertClose([0.15f, 0.2f, -1, 1.65f], merged["w"]);
    }

    [Fact]
    public void Dare_with_no_drops_equals_task_arithmetic()
    {
        using var generator = new Generator(3);
        var members = RandomPopulation(3, generator);
        using var baseModel = RandomMember(generator);
        var inputs = new MergeInputs { Base = baseModel };

        using var dare = MergeRegistry.Get("dare", ["drop-rate=0", "lambda=0.7"]).Merge(members, inputs);
        using var arithmetic = MergeRegistry.Get("task-arithmetic", ["lambda=0.7"]).Merge(members, inputs);

        AssertSetsClose(arithmetic, dare);
        DisposeAll(members);
    }

    [Fact]
    public void Dare_drops_or_doubles_each_element_reproducibly_from_its_seed()
    {
        // One model, base 0.5, τ = 1..64: each element is 0.5 (dropped) or 0.5 + 2·τ (kept, rescaled by 1/(1-0.5)).
        var tau = Enumerable.Range(1, 64).Select(i => (float)i).ToArray();
        using var baseModel = Vector([.. tau.Select(_ => 0.5f)]);
        using var model = Vector([.. tau.Select(t => 0.5f + t)]);
        var inputs = new MergeInputs { Base = baseModel };
        var dare = MergeRegistry.Get("dare", ["drop-rate=0.5", "seed=42"]);

        using var first = dare.Merge([model], inputs);
        using var again = dare.Merge([model], inputs);
        using var otherSeed = MergeRegistry.Get("dare", ["drop-rate=0.5", "seed=43"]).Merge([model], inputs);

        // The exact mask: the same generator, the same draw (u ≥ p keeps).
        using var generator = new Generator(42);
        using var u = rand([64], generator: generator);
        var keep = Values(u).Select(x => x >= 0.5f).ToArray();
        var expected = tau.Select((t, i) => keep[i] ? 0.5f + (2 * t) : 0.5f).ToArray();
        AssertClose(expected, first["w"], 0);
        AssertClose(expected, again["w"], 0);
        Assert.Contains(true, keep);
        Assert.Contains(false, keep);
        Assert.NotEqual(Values(first["w"]), Values(otherSeed["w"]));
    }

    [Fact]
    public void Dare_rescales_each_models_survivors_before_summing()
    {
        // Two models of 8 elements, p = 0.5, seed 5: masks are drawn model by model from one generator.
        using var baseModel = Vector(0, 0, 0, 0, 0, 0, 0, 0);
        using var a = Vector(1, 2, 3, 4, 5, 6, 7, 8);
        using var b = Vector(10, 20, 30, 40, 50, 60, 70, 80);
        var dare = new DareMerge(new DareOptions(DropRate: 0.5, Lambda: 1, Seed: 5));

        using var merged = dare.Merge([a, b], new MergeInputs { Base = baseModel });

        using var generator = new Generator(5);
        using var ua = rand([8], generator: generator);
        using var ub = rand([8], generator: generator);
        var keepA = Values(ua);
        var keepB = Values(ub);
        var expected = Enumerable.Range(0, 8)
            .Select(i => (keepA[i] >= 0.5f ? 2f * (i + 1) : 0f) + (keepB[i] >= 0.5f ? 20f * (i + 1) : 0f))
            .ToArray();
        AssertClose(expected, merged["w"], 0);
    }
}
