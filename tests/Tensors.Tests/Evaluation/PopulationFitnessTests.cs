using EvolverActors.Tensors;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Merging;
using EvolverActors.Tensors.Weights;
using Xunit;
using static EvolverActors.Tests.Evaluation.FitnessTestData;
using static EvolverActors.Tests.Merging.MergeTestData;

namespace EvolverActors.Tests.Evaluation;

/// <summary>Both fitness modes score what a full rebuild would, keep their population in step, and leak nothing.</summary>
public sealed class PopulationFitnessTests
{
    [Theory]
    [InlineData("average", Metric.Accuracy)]
    [InlineData("average", Metric.MacroF1)]
    [InlineData("fisher", Metric.Accuracy)]
    [InlineData("regmean", Metric.Accuracy)]
    public void Merged_candidate_scores_equal_scoring_a_full_merge_with_the_slot_replaced(string method, Metric metric)
    {
        var members = Members(3, firstSeed: 1, steps: 1);
        var fishers = RandomFishers(members, seed: 7);
        var grams = Grams(members);
        var inputs = new MergeInputs { Fisher = fishers, Grams = grams };
        var children = Members(2, firstSeed: 50, steps: 2);
        var candidates = children.SelectMany(child => Enumerable.Range(0, members.Count)
            .Select(slot => (Slot: slot, Child: child, Population: new List<WeightSet>(members) { [slot] = child }))).ToList();
        // The fitness merges incrementally, the reference in full: the weights agree to a tolerance, so the scores are
        // compared on the dev examples away from the decision boundary of every merge (ClearDev), where they must be equal.
        using var full = Evaluator();
        var dev = ClearDev(full, method, [members, .. candidates.Select(c => c.Population)], inputs);
        using var reference = Evaluator(dev);
        using (var fitness = new MergedFitness(new ResidentScorer(Evaluator(dev), metric), method, inputs: inputs))
        {
            fitness.Sync(0, Slots(members, "m"));

            Assert.Equal(MergedDevScore(reference, method, members, inputs, metric), fitness.ScorePopulation());
            foreach (var (slot, child, population) in candidates)
            {
                Assert.Equal(MergedDevScore(reference, method, population, inputs, metric), fitness.ScoreCandidate(slot, child));
            }
            // Scoring candidates changed nothing: S and the fused model are still those of the population.
            Assert.Equal(MergedDevScore(reference, method, members, inputs, metric), fitness.ScorePopulation());
            using var fused = fitness.Fused();
            using var merged = MergeRegistry.Get(method).Merge(members, inputs);
            AssertSetsClose(merged, fused);
        }
        DisposeAll(members.Concat(children).Concat(fishers).Concat(grams));
    }

    [Fact]
    public void Merged_sync_replaces_changed_slots_adds_a_member_in_place_and_rebuilds_when_the_version_goes_back()
    {
        var members = Members(3, firstSeed: 1, steps: 1);
        var children = Members(3, firstSeed: 60, steps: 2);
        var v1 = new List<WeightSet>(members) { [1] = children[0] };
        var v3 = new List<WeightSet>(v1) { [0] = children[1], [2] = children[2] };
        var four = new List<WeightSet>(members) { children[0] };
        var four3 = new List<WeightSet>(four) { [3] = children[1] };
        // Incremental updates and full merges agree to a tolerance: scores are compared away from the decision boundary.
        using var full = Evaluator();
        var dev = ClearDev(full, "average", [members, v1, v3, four, four3], MergeInputs.None);
        using var reference = Evaluator(dev);
        using var fitness = new MergedFitness(new ResidentScorer(Evaluator(dev), Metric.Accuracy), "average");
        Assert.Equal(-1, fitness.Version);
        Assert.Equal("merged", fitness.Mode);
        Assert.Throws<InvalidOperationException>(() => fitness.ScorePopulation());

        fitness.Sync(0, Slots(members, "m"));
        var before = fitness.ScorePopulation();

        // One slot changed.
        fitness.Sync(1, Slots(v1, "m").Select((s, i) => i == 1 ? ("c0", s.Weights) : s).ToList());
        Assert.Equal(1, fitness.Version);
        Assert.Equal(MergedDevScore(reference, "average", v1, MergeInputs.None), fitness.ScorePopulation());

        // Two slots changed in one sync (the steward accepted twice in between), slot 0 among them.
        var ids3 = new List<(string, WeightSet)> { ("c1", v3[0]), ("c0", v3[1]), ("c2", v3[2]) };
        fitness.Sync(3, ids3);
        Assert.Equal(1, fitness.Rebuilds);
        Assert.Equal(MergedDevScore(reference, "average", v3, MergeInputs.None), fitness.ScorePopulation());
        using (var fused = fitness.Fused())
        using (var merged = new AverageMerge().Merge(v3, MergeInputs.None))
        {
            AssertSetsClose(merged, fused);
        }

        // The version goes backwards (a restarted steward): rebuild from the slots given.
        fitness.Sync(0, Slots(members, "m"));
        Assert.Equal(2, fitness.Rebuilds);
        Assert.Equal(before, fitness.ScorePopulation());

        // A member added after the others (an admission): the average gains it in place, no rebuild.
        fitness.Sync(1, Slots(four, "m"));
        Assert.Equal(2, fitness.Rebuilds);
        Assert.Equal(MergedDevScore(reference, "average", four, MergeInputs.None), fitness.ScorePopulation());
        Assert.Equal(MergedDevScore(reference, "average", four3, MergeInputs.None), fitness.ScoreCandidate(3, children[1]));

        DisposeAll(members.Concat(children));
    }

    [Fact]
    public void Individual_scores_are_each_models_own_and_the_output_is_the_best_member()
    {
        var members = Members(3, firstSeed: 1, steps: 1);
        members.AddRange(Members(1, firstSeed: 9, steps: 6));
        var children = Members(1, firstSeed: 70, steps: 3);
        using var reference = Evaluator();
        using (var fitness = PopulationFitness.Create("Individual", new ResidentScorer(Evaluator(), Metric.MacroF1), "ties"))
        {
            Assert.IsType<IndividualFitness>(fitness);
            Assert.Equal("individual", fitness.Mode);
            fitness.Sync(4, Slots(members, "m"));

            var own = members.Select(m => DevScore(reference, m, Metric.MacroF1)).ToList();
            Assert.Equal(own, fitness.ScoreMembers());
            Assert.Equal(own.Max(), fitness.ScorePopulation());
            Assert.Equal(DevScore(reference, children[0], Metric.MacroF1), fitness.ScoreCandidate(2, children[0]));
            Assert.Throws<EvolverException>(() => fitness.ScoreCandidate(4, children[0]));

            var best = own.IndexOf(own.Max());
            using (var fused = fitness.Fused())
            {
                Assert.NotSame(members[best], fused);
                AssertSetsClose(members[best], fused, 0);
            }

            // After a replacement the best member follows the new population.
            var next = new List<WeightSet>(members) { [best] = children[0] };
            fitness.Sync(5, Slots(next, "n"));
            var nextOwn = next.Select(m => DevScore(reference, m, Metric.MacroF1)).ToList();
            Assert.Equal(nextOwn, fitness.ScoreMembers());
            Assert.Equal(nextOwn.Max(), fitness.ScorePopulation());

            Assert.Contains("test", fitness.Splits);
            Assert.InRange(fitness.Report(members[0], "test"), 0, 1);
        }
        DisposeAll(members.Concat(children));
    }

    [Fact]
    public void Scores_on_several_splits_are_each_splits_own_score_of_the_same_candidate()
    {
        var members = Members(3, firstSeed: 1, steps: 1);
        var child = Members(1, firstSeed: 70, steps: 3)[0];
        string[] splits = ["dev", "test"];
        using (var individual = PopulationFitness.Create("individual", new ResidentScorer(Evaluator(), Metric.Accuracy)))
        {
            individual.Sync(0, Slots(members, "m"));
            Assert.Equal([individual.ScoreCandidate(1, child), individual.Report(child, "test")], individual.ScoreCandidate(1, child, splits));
            Assert.Equal(members.Select(m => individual.Report(m, "test")), individual.ScoreMembers("test"));
            var best = individual.ScoreMembers().ToList().IndexOf(individual.ScoreMembers().Max());
            Assert.Equal([individual.ScorePopulation(), individual.Report(members[best], "test")], individual.ScorePopulation(splits));
        }
        foreach (var fitness in new IPopulationFitness[]
        {
            new MergedFitness(new ResidentScorer(Evaluator(), Metric.Accuracy), "average"),
            new StreamingMergedFitness(new ResidentScorer(Evaluator(), Metric.Accuracy), "average"),
        })
        {
            using (fitness)
            {
                fitness.Sync(0, Slots(members, "m"));
                var both = fitness.ScoreCandidate(2, child, splits);
                Assert.Equal(fitness.ScoreCandidate(2, child), both[0]);
                Assert.InRange(both[1], 0, 1);
                using var fused = fitness.Fused();
                Assert.Equal([fitness.ScorePopulation(), fitness.Report(fused, "test")], fitness.ScorePopulation(splits));
            }
        }
        DisposeAll(members.Append(child));
    }

    [Fact]
    public void The_factory_names_what_is_allowed()
    {
        using var evaluator = Evaluator();

        var mode = Assert.Throws<EvolverException>(() => PopulationFitness.Create("best", new ResidentScorer(evaluator, Metric.Accuracy)));
        var linear = Assert.Throws<EvolverException>(() => PopulationFitness.Create("merged", new ResidentScorer(evaluator, Metric.Accuracy), "ties"));
        var none = Assert.Throws<EvolverException>(() => PopulationFitness.Create("merged", new ResidentScorer(evaluator, Metric.Accuracy)));
        var unknown = Assert.Throws<EvolverException>(() => PopulationFitness.Create("merged", new ResidentScorer(evaluator, Metric.Accuracy), "mean"));
        var parameter = Assert.Throws<EvolverException>(() => PopulationFitness.Create(
            "merged", new ResidentScorer(evaluator, Metric.Accuracy), "regmean", new Dictionary<string, string> { ["alpha"] = "2" }));

        var statistics = Assert.Throws<EvolverException>(() => PopulationFitness.Create("merged", new ResidentScorer(evaluator, Metric.Accuracy), "fisher"));

        Assert.Equal("unknown fitness mode 'best'; modes: individual, merged", mode.Message);
        Assert.Equal(
            "fitness mode 'merged' with merge method 'fisher' needs Fisher statistics, one set per population slot; none were given",
            statistics.Message);
        Assert.Equal(
            "merge method 'ties' has no incremental update (it is not linear in each member); methods with one: average, fisher, regmean, linear",
            linear.Message);
        Assert.Equal("fitness mode 'merged' needs a merge method; methods with an incremental update: average, fisher, regmean, linear", none.Message);
        Assert.StartsWith("unknown merge method 'mean'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("alpha", parameter.Message, StringComparison.Ordinal);
        Assert.Equal(PopulationFitness.DevSplit, evaluator.SplitNames.First()); // still usable: the caller kept it
    }

    [Fact]
    public void An_evaluator_without_a_dev_split_is_refused()
    {
        using var evaluator = new ResidentEvaluator(
            new Tensors.Models.Cnn.CnnClassifier(classes: Classes), new Tensors.Models.Cnn.ImageBatcher(), [Test], TorchSharp.torch.CPU);

        var error = Assert.Throws<EvolverException>(() => new IndividualFitness(new ResidentScorer(evaluator, Metric.Accuracy)));

        Assert.Equal("a fitness needs a 'dev' split to select on; the evaluator has test", error.Message);
    }

    [Fact]
    public void Fitness_of_either_mode_leaves_no_live_tensors_behind()
    {
        var members = Members(2, firstSeed: 1, steps: 1);
        var children = Members(1, firstSeed: 80, steps: 1);
        var before = WeightSet.LiveTensors;
        foreach (var mode in PopulationFitness.Modes)
        {
            using var fitness = PopulationFitness.Create(mode, new ResidentScorer(Evaluator(), Metric.Accuracy), "average");
            fitness.Sync(0, Slots(members, "m"));
            fitness.ScorePopulation();
            fitness.ScoreMembers();
            fitness.ScoreCandidate(1, children[0]);
            fitness.Sync(1, [("m0", members[0]), ("c", children[0])]);
            fitness.ScoreCandidate(0, members[1]);
            fitness.Sync(0, Slots(members, "m"));
            fitness.Fused().Dispose();
        }
        var after = WeightSet.LiveTensors;
        DisposeAll(members.Concat(children));

        Assert.Equal(before, after);
    }
}
