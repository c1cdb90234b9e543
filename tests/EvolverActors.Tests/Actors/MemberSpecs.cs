using Akka.Actor;
using EvolverActors.Actors.Population;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>A population slot: adopts weights by id, persists the adoption, keeps them resident (docs/architecture.md §2–3).</summary>
public sealed class MemberSpecs : EvolverSpec
{
    public MemberSpecs(ITestOutputHelper output)
        : base(output)
    {
        Install(Settings());
    }

    private IActorRef Member(int slot) => Sys.ActorOf(Props.Create(() => new MemberActor(RunId, slot)), $"member-{slot}");

    [Fact]
    public void Member_adopts_persists_and_recovers_its_weights_after_restart()
    {
        var member = Member(1);
        member.Tell(new AdoptWeights(1, "m1", 0), TestActor);
        ExpectMsg(new WeightsAdoptedAck(1, "m1", 0), Wait, "slot 1 adopting its initial weights m1");
        Assert.True(Resident.IsResident("m1"), "the member's lease should keep m1 resident");

        member.Tell(new AdoptWeights(1, "m2", 1), TestActor);
        ExpectMsg(new WeightsAdoptedAck(1, "m2", 1), Wait, "slot 1 adopting m2 at version 1");
        Assert.True(Resident.IsResident("m2"));
        Assert.False(Resident.IsResident("m1"), "nobody else holds m1: the old weights are released on adoption");

        StopAndWait(member, "member 1 (first incarnation)");
        Assert.False(Resident.IsResident("m2"), "a stopped member releases its lease");

        var again = Member(1);
        again.Tell(new GetMemberWeights(1), TestActor);
        ExpectMsg(new MemberWeights(1, "m2", 1, Resident: false), Wait, "member 1 after recovery: the journal says m2 at version 1");

        // Recovery re-sends the ledger's weights: already adopted, so only residency is restored.
        again.Tell(new AdoptWeights(1, "m2", 1), TestActor);
        ExpectMsg(new WeightsAdoptedAck(1, "m2", 1), Wait, "member 1 re-adopting m2 after recovery");
        again.Tell(new GetMemberWeights(1), TestActor);
        ExpectMsg(new MemberWeights(1, "m2", 1, Resident: true), Wait, "member 1 holding m2 resident again");
        Assert.True(Resident.IsResident("m2"));
        Assert.Equal(1, Resident.LeaseCount("m2"));
    }

    [Fact]
    public void Member_acknowledges_a_repeated_adoption_without_a_second_lease()
    {
        var member = Member(0);
        member.Tell(new AdoptWeights(0, "m0", 0), TestActor);
        ExpectMsg(new WeightsAdoptedAck(0, "m0", 0), Wait, "slot 0 adopting m0");
        member.Tell(new AdoptWeights(0, "m0", 0), TestActor);
        ExpectMsg(new WeightsAdoptedAck(0, "m0", 0), Wait, "slot 0 adopting m0 a second time");
        Assert.Equal(1, Resident.LeaseCount("m0"));
    }

    [Fact]
    public void Member_reports_a_missing_weights_file_and_never_substitutes()
    {
        var member = Member(2);
        member.Tell(new AdoptWeights(2, "m2", 0), TestActor);
        ExpectMsg(new WeightsAdoptedAck(2, "m2", 0), Wait, "slot 2 adopting m2");

        member.Tell(new AdoptWeights(2, "o-missing", 1), TestActor);
        var failed = ExpectMsg<AdoptionFailed>(Wait, "slot 2 asked to adopt weights that are not in the store");
        Assert.Equal(2, failed.Slot);
        Assert.Equal("o-missing", failed.WeightsId);
        Assert.Contains(Store.PathOf("o-missing"), failed.Problem, StringComparison.Ordinal);

        member.Tell(new GetMemberWeights(2), TestActor);
        ExpectMsg(new MemberWeights(2, "m2", 0, Resident: true), Wait, "slot 2 still holding m2 after the failed adoption");
        Assert.False(Resident.IsResident("o-missing"));
    }
}
