using Akka.Actor;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Evaluation;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Steward;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Weights;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// The whole stream on one actor system (DESIGN.md §2): a steward, real members, a breeder and two evaluators
/// with a fake fitness, every message serialised on the way.
/// </summary>
public sealed class RunSpecs(ITestOutputHelper output) : EvolverSpec(output)
{
    /// <summary>Stands in for the shard region: one <see cref="MemberActor"/> per slot, created on first use.</summary>
    private sealed class MemberRegion : ReceiveActor
    {
        public MemberRegion(string runId)
        {
            Receive<IMemberCommand>(command =>
            {
                var name = $"member-{command.Slot}";
                var member = Context.Child(name);
                if (member.IsNobody())
                {
                    var slot = command.Slot;
                    member = Context.ActorOf(Props.Create(() => new MemberActor(runId, slot)), name);
                }
                member.Forward(command);
            });
        }
    }

    /// <summary>
    /// Merged-mode stand-in: S is the mean of the slots' bias means; a candidate replaces its slot's contribution.
    /// Every <paramref name="failEvery"/>th score throws, as a flaky device would.
    /// </summary>
    private sealed class FakeMergedFitness(int failEvery) : IPopulationFitness
    {
        private double[] _slots = [];
        private int _calls;

        public string Mode => PopulationFitness.Merged;
        public long Version { get; private set; } = -1;

        public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots)
        {
            _slots = [.. slots.Select(s => BiasMean(s.Weights))];
            Version = version;
        }

        public double ScoreCandidate(int slot, WeightSet child)
        {
            if (++_calls % failEvery == 0)
            {
                throw new InvalidOperationException($"flaky device (call {_calls})");
            }
            var slots = (double[])_slots.Clone();
            slots[slot] = BiasMean(child);
            return slots.Average();
        }

        public double ScorePopulation() => _slots.Average();
        public IReadOnlyList<double> ScoreMembers() => _slots;
        public IReadOnlyCollection<string> Splits { get; } = ["dev"];
        public double Report(WeightSet weights, string split) => throw new NotSupportedException("not in these specs");
        public WeightSet Fused() => throw new NotSupportedException("not in these specs");
        public void Dispose()
        {
        }
    }

    [Fact]
    public void A_run_with_a_flaky_evaluator_goes_on_to_its_budget_and_every_member_holds_the_ledger_weights()
    {
        var ended = Probe("run-ended");
        Sys.EventStream.Subscribe(ended.Ref, typeof(RunEnded));
        Install(Settings() with { MaxEvaluations = 12, MaxRetries = 2, QueueCapacity = 2 }, fitness: _ => new FakeMergedFitness(failEvery: 3));

        var region = Sys.ActorOf(Props.Create(() => new MemberRegion(RunId)), "members");
        var steward = Sys.ActorOf(Props.Create(() => new StewardActor(region)), "steward");
        var breeder = Sys.ActorOf(Props.Create(() => new BreederActor(steward)), "breeder");
        Sys.ActorOf(Props.Create(() => new EvaluatorActor("e0", CPU, steward, breeder)), "e0");
        Sys.ActorOf(Props.Create(() => new EvaluatorActor("e1", CPU, steward, breeder)), "e1");

        var end = ended.ExpectMsg<RunEnded>(TimeSpan.FromSeconds(60), "the run reaches its budget of 12 evaluations");
        Assert.Equal(("finished", 0), (end.State, end.ExitCode));

        steward.Tell(GetRunProgress.Instance, TestActor);
        var progress = ExpectMsg<RunProgress>(Wait, "the finished run's progress");
        Assert.Equal(12, progress.Evaluations);
        Assert.Equal(progress.Version, progress.Accepted);
        Assert.True(progress.Accepted > 0, "some offspring beat S");
        Assert.True(progress.PopulationScore > 1.0, $"S rose from 1.0 (the mean of 0, 1, 2) to {progress.PopulationScore}");

        // Every slot's ledger weights are stored, adopted by its member and resident.
        for (var slot = 0; slot < Runtime.Slots; slot++)
        {
            var id = progress.Ledger.SlotWeights[slot];
            Assert.True(Store.Contains(id), $"slot {slot}'s ledger weights {id} are in the store");
            var current = slot;
            AwaitAssert(() =>
            {
                region.Tell(new GetMemberWeights(current), TestActor);
                var held = ExpectMsg<MemberWeights>(Wait, $"slot {current}'s member");
                Assert.Equal((id, true), (held.WeightsId, held.Resident));
            }, Wait, TimeSpan.FromMilliseconds(100));
        }
    }
}
