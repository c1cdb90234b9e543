using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Actors;

/// <summary>What the steward refuses to admit or retire, in one line each, changing nothing (docs/architecture.md §6).</summary>
public sealed class MembershipSpecs(ITestOutputHelper output) : StewardSpecBase(output)
{
    private MembershipAnswer Ask(Akka.Actor.IActorRef steward, object command)
    {
        steward.Tell(command, TestActor);
        return ExpectMsg<MembershipAnswer>(Wait, $"the steward's answer to {command.GetType().Name}");
    }

    [Fact]
    public void A_checkpoint_that_is_a_starting_member_still_in_its_slot_is_refused()
    {
        var steward = InitializedSteward(Settings(FitnessMode.Individual), slotScores: [0.5, 0.5, 0.5]);
        var answer = Ask(steward, new AdmitMember("a-0123", "again", "/models/m1", "0123", StartingId: "m1"));
        Assert.Equal("these weights are slot 1 of the population already", answer.Refused);
        Assert.Null(answer.Change);
        Assert.Equal(0, answer.Progress.Version);
    }

    [Fact]
    public void A_run_without_population_snapshots_cannot_keep_an_admitted_member_and_says_so()
    {
        var steward = InitializedSteward(Settings(FitnessMode.Individual), slotScores: [0.5, 0.5, 0.5]);
        var answer = Ask(steward, new AdmitMember("a-0123", "new", "/models/new", "0123"));
        Assert.Equal("this run keeps no population snapshots, where an admitted member's weights are kept", answer.Refused);
    }

    [Fact]
    public void A_retirement_is_stored_and_broadcast_and_one_below_the_operators_minimum_or_of_an_unknown_slot_is_refused()
    {
        var steward = InitializedSteward(Settings(FitnessMode.Individual), slotScores: [0.5, 0.6, 0.7]);
        var retired = Ask(steward, new RetireMember(2, "drifted"));
        Assert.Null(retired.Refused);
        Assert.Equal((2, "m2", "drifted", 1L), (retired.Retired!.Slot, retired.Retired.WeightsId, retired.Retired.Reason, retired.Retired.Version));
        Assert.Equal(0.6, retired.Progress.BestDev); // slot 2's 0.7 no longer counts
        Breeder.FishForMessage<LedgerChanged>(m => m.Ledger.Version == 1 && m.Ledger.IsRetired(2), Wait, "the breeder hears of the retirement");

        Assert.Equal("the population would have 1 members; operator 'evolver' needs at least 2", Ask(steward, new RetireMember(0, "test")).Refused);
        Assert.Equal("slot 2 was retired already", Ask(steward, new RetireMember(2, "test")).Refused);
        Assert.Equal("slot 7 is not a slot of this run (0 to 2)", Ask(steward, new RetireMember(7, "test")).Refused);
        Assert.Equal(1, Progress(steward, "nothing more changed").Version);
    }

    [Fact]
    public void A_merged_run_whose_method_keeps_per_member_statistics_refuses_an_admission_without_them()
    {
        var steward = InitializedSteward(Settings() with { MergeMethod = "fisher" });
        var refused = Ask(steward, new AdmitMember("a-0123", "new", "/models/new", "0123")).Refused;
        Assert.Equal("merge method 'fisher' needs the new member's Fisher statistics", refused);
        // With them, it goes on to where the weights are kept (this steward keeps no snapshots).
        refused = Ask(steward, new AdmitMember("a-0123", "new", "/models/new", "0123", Statistics: "s-4567")).Refused;
        Assert.Equal("this run keeps no population snapshots, where an admitted member's weights are kept", refused);
    }
}
