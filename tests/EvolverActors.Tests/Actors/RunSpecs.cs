using Akka.Actor;
using Akka.TestKit;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Evaluation;
using EvolverActors.Actors.Population;
using EvolverActors.Actors.Steward;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Actors;

/// <summary>
/// The whole stream on one actor system (docs/architecture.md §2): a steward, real members, a breeder and two evaluators
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
                    member = Context.ActorOf(Props.Create(() => new MemberActor(slot)), name);
                }
                member.Forward(command);
            });
        }
    }

    /// <summary>
    /// Merged-mode stand-in: S is the mean of the slots' bias means; a candidate replaces its slot's contribution.
    /// Every <paramref name="failEvery"/>th score throws, as a flaky device would (1: every score, a broken one);
    /// <paramref name="initialFault"/> makes the initial scoring throw too (and is set when it does).
    /// </summary>
    private sealed class FakeMergedFitness(int failEvery, ManualResetEventSlim? initialFault = null) : IPopulationFitness
    {
        private double[] _slots = [];
        private int _calls;

        public string Mode => PopulationFitness.Merged;
        public long Version { get; private set; } = -1;

        public void Sync(long version, IReadOnlyList<(string Id, WeightSet Weights)> slots, IReadOnlyList<MemberKey>? members = null)
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

        public double ScorePopulation()
        {
            if (initialFault is not null)
            {
                initialFault.Set();
                throw new InvalidOperationException("Tensor on device meta has no data\nException raised from item at aten/src/ATen/native/Scalar.cpp");
            }
            return _slots.Average();
        }
        public IReadOnlyList<double> ScoreMembers() => _slots;

        public IReadOnlyList<double> ScoreCandidate(int slot, WeightSet child, IReadOnlyList<string> splits)
        {
            var score = ScoreCandidate(slot, child);
            return [.. splits.Select(_ => score)];
        }

        public IReadOnlyList<double> ScorePopulation(IReadOnlyList<string> splits) => [.. splits.Select(_ => ScorePopulation())];

        public IReadOnlyList<double> ScoreMembers(string split) => ScoreMembers();
        public IReadOnlyCollection<string> Splits { get; } = ["dev"];
        public double Report(WeightSet weights, string split) => throw new NotSupportedException("not in these specs");
        public WeightSet Fused() => throw new NotSupportedException("not in these specs");
        public void Dispose()
        {
        }
    }

    /// <summary>Hears the RunEnded the steward publishes for the node.</summary>
    private TestProbe RunEndedProbe()
    {
        var ended = Probe("run-ended");
        Sys.EventStream.Subscribe(ended.Ref, typeof(RunEnded));
        return ended;
    }

    /// <summary>Members, a steward and a breeder, then one evaluator per device, in that order; returns the steward and the members.</summary>
    private (IActorRef Steward, IActorRef Members) StartRun(params (string Name, Device Device)[] evaluators)
    {
        var region = Sys.ActorOf(Props.Create(() => new MemberRegion(RunId)), "members");
        var steward = Sys.ActorOf(Props.Create(() => new StewardActor(region)), "steward");
        var breeder = Sys.ActorOf(Props.Create(() => new BreederActor(steward)), "breeder");
        foreach (var (name, device) in evaluators)
        {
            Sys.ActorOf(Props.Create(() => new EvaluatorActor(name, device, steward, breeder)), name);
        }
        return (steward, region);
    }

    private RunProgress Progress(IActorRef steward, string phase)
    {
        steward.Tell(GetRunProgress.Instance, TestActor);
        return ExpectMsg<RunProgress>(Wait, $"{phase}: the steward's progress");
    }

    [Fact]
    public void A_run_with_a_flaky_evaluator_goes_on_to_its_budget_and_every_member_holds_the_ledger_weights()
    {
        var ended = RunEndedProbe();
        Install(Settings() with { MaxEvaluations = 12, MaxRetries = 2, QueueCapacity = 2 }, fitness: _ => new FakeMergedFitness(failEvery: 3));
        var (steward, region) = StartRun(("e0", CPU), ("e1", CPU));

        var end = ended.ExpectMsg<RunEnded>(TimeSpan.FromSeconds(60), "the run reaches its budget of 12 evaluations");
        Assert.Equal(("finished", 0), (end.State, end.ExitCode));

        steward.Tell(GetRunProgress.Instance, TestActor);
        var progress = ExpectMsg<RunProgress>(Wait, "the finished run's progress");
        Assert.Equal(12, progress.Evaluations);
        Assert.Equal(progress.Version, progress.Accepted);
        Assert.True(progress.Accepted > 0, "some offspring beat S");
        Assert.True(progress.PopulationScore > 1.0, $"S rose from 1.0 (the mean of 0, 1, 2) to {progress.PopulationScore}");

        // Every slot's ledger weights can be had (stored, or rebuilt from recipes), are adopted by its member and resident.
        for (var slot = 0; slot < Runtime.Slots; slot++)
        {
            var id = progress.Ledger.SlotWeights[slot];
            using (Resident.Acquire(id))
            {
            }
            var current = slot;
            AwaitAssert(() =>
            {
                region.Tell(new GetMemberWeights(current), TestActor);
                var held = ExpectMsg<MemberWeights>(Wait, $"slot {current}'s member");
                Assert.Equal((id, true), (held.WeightsId, held.Resident));
            }, Wait, TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public void A_run_whose_evaluator_fails_every_offspring_still_ends_at_its_budget()
    {
        var ended = RunEndedProbe();
        // Never retired here (a high limit), so only the budget can end the run: every given-up offspring counts.
        Install(Settings() with { MaxEvaluations = 8, MaxRetries = 2, MaxConsecutiveFailures = 1000 }, fitness: _ => new FakeMergedFitness(failEvery: 1));
        var (steward, _) = StartRun(("e0", CPU));

        var end = ended.ExpectMsg<RunEnded>(TimeSpan.FromSeconds(30), "the budget of 8 evaluations is spent by failures");
        Assert.Equal(("finished", 0), (end.State, end.ExitCode));
        Assert.Contains("max-evaluations (8) reached", end.Reason, StringComparison.Ordinal);
        var progress = Progress(steward, "finished");
        Assert.Equal((8L, 7L, 0L, 0L), (progress.Evaluations, progress.Failed, progress.Accepted, progress.Rejected));
    }

    [Fact]
    public void A_run_whose_only_evaluator_fails_every_offspring_ends_with_status_5_naming_it()
    {
        var ended = RunEndedProbe();
        Install(Settings() with { MaxEvaluations = 300 }, fitness: _ => new FakeMergedFitness(failEvery: 1));
        var (steward, _) = StartRun(("e0", CPU));

        var end = ended.ExpectMsg<RunEnded>(TimeSpan.FromSeconds(30), "the only evaluator is retired after 5 failures in a row");
        Assert.Equal(("failed", StewardActor.NoHealthyEvaluatorExitCode), (end.State, end.ExitCode));
        Assert.StartsWith("no healthy evaluator left (evaluator 'e0' retired after 5 consecutive failures: flaky device (call ",
            end.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', end.Reason);
        var progress = Progress(steward, "failed");
        Assert.Equal("failed", progress.State);
        Assert.InRange(progress.Evaluations, 1, 1 + 5); // the initial score and at most the five failures
    }

    [Fact]
    public void A_run_completes_on_the_healthy_evaluator_when_the_other_fails_the_initial_scoring()
    {
        var ended = RunEndedProbe();
        using var metaFailed = new ManualResetEventSlim();
        var meta = new Device(DeviceType.META);
        Install(Settings() with { Devices = ["meta", "cpu"], MaxEvaluations = 10 }, fitness: device =>
        {
            if (device.type == DeviceType.META)
            {
                return new FakeMergedFitness(failEvery: 1, initialFault: metaFailed);
            }
            // The cpu evaluator registers only after the meta one failed the initial scoring, so that fault is exercised.
            metaFailed.Wait(Wait);
            return new FakeMergedFitness(failEvery: int.MaxValue);
        });
        var (steward, _) = StartRun(("meta-0", meta), ("cpu-1", CPU));

        var end = ended.ExpectMsg<RunEnded>(TimeSpan.FromSeconds(30), "the run reaches its budget on the cpu evaluator");
        Assert.Equal(("finished", 0), (end.State, end.ExitCode));
        Assert.True(metaFailed.IsSet, "the meta evaluator was asked for the initial scores and failed them");
        var progress = Progress(steward, "finished");
        Assert.Equal(10L, progress.Evaluations);
        Assert.True(progress.Accepted > 0, "the cpu evaluator's offspring were decided");
    }

    [Fact]
    public void A_run_whose_only_evaluator_cannot_score_the_initial_population_ends_with_status_5()
    {
        var ended = RunEndedProbe();
        using var fault = new ManualResetEventSlim();
        Install(Settings(), fitness: _ => new FakeMergedFitness(failEvery: 1, initialFault: fault));
        var (steward, _) = StartRun(("e0", CPU));

        var end = ended.ExpectMsg<RunEnded>(TimeSpan.FromSeconds(30), "the initial scoring fails five times on the only evaluator");
        Assert.Equal(("failed", StewardActor.NoHealthyEvaluatorExitCode), (end.State, end.ExitCode));
        Assert.Equal("no healthy evaluator left (evaluator 'e0' retired after 5 consecutive failures: Tensor on device meta has no data)", end.Reason);
        Assert.Equal(0L, Progress(steward, "failed before initialisation").Evaluations);
    }
}
