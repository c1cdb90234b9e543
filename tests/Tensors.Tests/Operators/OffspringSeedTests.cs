using EvolverActors.Tensors.Operators;
using Xunit;

namespace EvolverActors.Tests.Operators;

/// <summary>Per-offspring seeds: nearby run seeds must not replay each other's streams.</summary>
public sealed class OffspringSeedTests
{
    private static readonly double[] Fitness = [0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.6, 0.4];

    [Fact]
    public void Seeds_never_collide_across_runs_and_sequences()
    {
        var seen = new HashSet<ulong>();
        for (ulong run = 1; run <= 5; run++)
        {
            for (long sequence = 0; sequence <= 10_000; sequence++)
            {
                var seed = CounterRng.OffspringSeed(run, sequence);
                Assert.True(seen.Add(seed), $"run seed {run}, sequence {sequence}: seed {seed:x16} already used");
            }
        }
    }

    [Fact]
    public void Seed_is_a_pure_function_of_run_seed_and_sequence()
    {
        Assert.Equal(CounterRng.OffspringSeed(7, 42), CounterRng.OffspringSeed(7, 42));
        Assert.NotEqual(CounterRng.OffspringSeed(7, 42), CounterRng.OffspringSeed(42, 7));
        Assert.Equal(CounterRng.OffspringRandom(7, 42).NextInt64(), CounterRng.OffspringRandom(7, 42).NextInt64());
    }

    [Fact]
    public void Run_seed_plus_one_does_not_replay_the_stream_shifted_by_a_generation()
    {
        const int Slots = 8;
        const int Length = 2000;
        var op = new DeRand1();
        for (ulong s = 1; s <= 4; s++)
        {
            // The parents and the offspring seed each offspring draws, as the breeder draws them.
            var shifted = Enumerable.Range(0, Length).Select(n => Draw(op, s, n + Slots, n % Slots)).ToArray();
            var next = Enumerable.Range(0, Length).Select(n => Draw(op, s + 1, n, n % Slots)).ToArray();
            var sameParents = shifted.Zip(next).Count(p => p.First.Parents == p.Second.Parents);
            Assert.DoesNotContain(shifted.Select(d => d.Seed), next.Select(d => d.Seed).ToHashSet().Contains);
            // Three distinct parents among the seven other slots: 210 ordered triples, so chance agreement is rare.
            Assert.True(sameParents < Length / 20, $"run seed {s}: {sameParents} of {Length} parent triples repeat one generation apart");
        }
    }

    [Fact]
    public void SplitMixRandom_draws_in_range_and_about_uniformly()
    {
        var rng = new SplitMixRandom(99);
        var counts = new int[10];
        for (var i = 0; i < 20_000; i++)
        {
            counts[rng.Next(10)]++;
            var d = rng.NextDouble();
            Assert.InRange(d, 0, 0.9999999999999999);
            Assert.InRange(rng.Next(-3, 4), -3, 3);
            Assert.InRange(rng.NextInt64(5, 6), 5, 5);
        }
        Assert.All(counts, c => Assert.InRange(c, 1800, 2200));
    }

    private static (string Parents, ulong Seed) Draw(MutationOperator op, ulong runSeed, long sequence, int target)
    {
        var recipe = OffspringRecipe.Draw(op, new BreedingSettings(), target, Fitness, CounterRng.OffspringRandom(runSeed, sequence));
        return (string.Join(",", recipe.Parents), recipe.Seed);
    }
}
