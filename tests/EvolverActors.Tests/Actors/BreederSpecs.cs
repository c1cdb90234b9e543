using Akka.Actor;
using Akka.TestKit;
using EvolverActors.Actors.Breeding;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>Work pulling (docs/architecture.md §2): offspring go out only on request, the queue is bounded, lost work is re-issued.</summary>
public sealed class BreederSpecs : EvolverSpec
{
    private static readonly LedgerView Version0 = new(0, ["m0", "m1", "m2"], [0.5, 0.5, 0.5], 0.5, false);
    private readonly TestProbe _steward;

    public BreederSpecs(ITestOutputHelper output)
        : base(output)
    {
        _steward = Probe("steward");
        Install(Settings() with { QueueCapacity = 2, MaxRetries = 3 });
    }

    /// <summary>A breeder that has registered and received the version-0 ledger, with its queue filled.</summary>
    private IActorRef StartBreeder()
    {
        var breeder = Sys.ActorOf(Props.Create(() => new BreederActor(_steward.Ref)), "breeder");
        var registered = _steward.ExpectMsg<RegisterBreeder>(Wait, "the breeder registers with the steward");
        Assert.Equal(breeder, registered.Breeder);
        breeder.Tell(new LedgerChanged(Version0));
        AwaitCondition(() => Resident.ResidentCount == 2, Wait, "the breeder builds its queue of 2 offspring ahead of demand");
        return breeder;
    }

    private static OffspringInfo Work(TestProbe evaluator, string phase) =>
        evaluator.ExpectMsg<EvaluateOffspring>(Wait, $"{phase}: {evaluator.Ref.Path.Name} gets an offspring").Offspring;

    [Fact]
    public void Breeder_hands_out_work_only_when_asked_and_bounds_its_queue()
    {
        var evaluator = Probe("evaluator");
        var breeder = StartBreeder();
        evaluator.ExpectNoMsg(Quiet);
        Assert.Equal(2, Resident.ResidentCount);
        Assert.False(Resident.IsResident("m0"), "the parents' leases are released once the children are built");

        var handedOut = new List<OffspringInfo>();
        for (var ask = 1; ask <= 3; ask++)
        {
            breeder.Tell(new RequestWork(evaluator.Ref));
            var work = Work(evaluator, $"request {ask}");
            Assert.True(Resident.IsResident(work.Id), $"offspring {work.Id} is resident while it is evaluated");
            Assert.Equal(0, work.BredAtVersion);
            Assert.Equal(work.TargetWeights, Version0.SlotWeights[work.Target]);
            handedOut.Add(work);
            evaluator.ExpectNoMsg(Quiet); // one request, one offspring
            // In flight (held until decided) plus a queue refilled to its bound, never more.
            AwaitCondition(() => Resident.ResidentCount == ask + 2, Wait, $"request {ask}: {ask} in flight and 2 queued");
        }
        Assert.Equal(3, handedOut.Select(o => o.Id).Distinct().Count());
        Assert.Equal(3, handedOut.Select(o => o.Target).Distinct().Count()); // every slot once per round

        // A decision releases the offspring; nothing more is built while nobody asks.
        breeder.Tell(new OffspringDecided(handedOut[0].Id, 0, false, Version0));
        AwaitCondition(() => !Resident.IsResident(handedOut[0].Id), Wait, "a decided offspring is released by the breeder");
        evaluator.ExpectNoMsg(Quiet);
        Assert.Equal(4, Resident.ResidentCount);
    }

    [Fact]
    public void Breeder_reissues_the_work_of_an_evaluator_that_died()
    {
        var doomed = Probe("evaluator-a");
        var survivor = Probe("evaluator-b");
        var breeder = StartBreeder();
        breeder.Tell(new RequestWork(doomed.Ref));
        var lost = Work(doomed, "before the crash");

        StopAndWait(doomed.Ref, "evaluator a");
        // The breeder learns of the death through its own watch; the survivor asks until the lost offspring comes back.
        var reissued = new List<OffspringInfo>();
        for (var ask = 1; ask <= 5 && !reissued.Any(o => o.Id == lost.Id); ask++)
        {
            breeder.Tell(new RequestWork(survivor.Ref));
            reissued.Add(Work(survivor, $"after the crash, request {ask}"));
        }
        var again = Assert.Single(reissued, o => o.Id == lost.Id);
        AssertSameOffspring(lost, again);
        Assert.True(Resident.IsResident(lost.Id), "the re-issued offspring is still resident");
    }

    [Fact]
    public void Breeder_retries_a_failing_offspring_a_bounded_number_of_times_then_reports_it_lost()
    {
        var evaluator = Probe("evaluator");
        var breeder = StartBreeder();
        breeder.Tell(new RequestWork(evaluator.Ref));
        var first = Work(evaluator, "attempt 1");
        Assert.Equal(0, first.Attempt);

        for (var attempt = 1; attempt < 3; attempt++)
        {
            breeder.Tell(new OffspringFailed(first with { Attempt = attempt - 1 }, "boom"));
            breeder.Tell(new RequestWork(evaluator.Ref));
            var retry = Work(evaluator, $"retry {attempt}");
            AssertSameOffspring(first with { Attempt = attempt }, retry);
        }
        _steward.ExpectNoMsg(Quiet);

        breeder.Tell(new OffspringFailed(first with { Attempt = 2 }, "boom"));
        var dropped = _steward.ExpectMsg<OffspringLost>(Wait, "after 3 attempts the steward hears the offspring is lost");
        Assert.Equal((first.Id, 2, "boom"), (dropped.Offspring.Id, dropped.Offspring.Attempt, dropped.Reason));

        // The run goes on: the next request gets another offspring; the steward's decision releases the lost one.
        breeder.Tell(new RequestWork(evaluator.Ref));
        Assert.NotEqual(first.Id, Work(evaluator, "after the drop").Id);
        breeder.Tell(new OffspringDecided(first.Id, 0, false, Version0));
        AwaitCondition(() => !Resident.IsResident(first.Id), Wait, "the lost offspring is released after the steward's decision");
    }

    [Fact]
    public void Breeder_reissues_the_work_of_a_retired_evaluator_and_ignores_its_late_failures()
    {
        var retiring = Probe("evaluator-a");
        var survivor = Probe("evaluator-b");
        var breeder = StartBreeder();
        breeder.Tell(new RequestWork(retiring.Ref));
        var held = Work(retiring, "before the retirement");
        breeder.Tell(new RequestWork(retiring.Ref));
        var second = Work(retiring, "the retiring evaluator's second offspring");

        breeder.Tell(new EvaluatorRetired(retiring.Ref, "a", "evaluator 'a' retired after 5 consecutive failures: boom"));
        breeder.Tell(new RequestWork(survivor.Ref));
        var first = Work(survivor, "after the retirement: the retired one's offspring go to the survivor first");
        breeder.Tell(new RequestWork(survivor.Ref));
        var next = Work(survivor, "and the other one");
        Assert.Equal(new[] { held.Id, second.Id }.Order(), new[] { first.Id, next.Id }.Order());
        AssertSameOffspring(held, first.Id == held.Id ? first : next);

        // The decision on it releases it as usual; a failure report that arrives after the decision retries nothing.
        breeder.Tell(new OffspringDecided(held.Id, 0, false, Version0));
        AwaitCondition(() => !Resident.IsResident(held.Id), Wait, "the decided offspring is released");
        breeder.Tell(new OffspringFailed(held, "b: late"));
        for (var ask = 1; ask <= 3; ask++)
        {
            breeder.Tell(new RequestWork(survivor.Ref));
            Assert.NotEqual(held.Id, Work(survivor, $"request {ask} after the late failure").Id);
        }
        _steward.ExpectNoMsg(Quiet);
    }
}
