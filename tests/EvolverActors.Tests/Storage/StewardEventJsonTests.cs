using System.Text;
using Akka.Actor;
using Akka.Configuration;
using EvolverActors.Actors.Serialization;
using EvolverActors.Actors.Steward;
using Xunit;

namespace EvolverActors.Tests.Storage;

/// <summary>
/// Golden JSON for persisted steward events: an event can never change shape once a journal holds it, so its bytes
/// are pinned by a checked-in file (Storage/Golden/&lt;event&gt;.json) compared byte for byte, and that file must read back.
/// </summary>
public sealed class StewardEventJsonTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("golden-spec", ConfigurationFactory.ParseString("akka.loglevel = WARNING")
        .WithFallback(ConfigurationFactory.ParseString(EvolverSerializer.Hocon)));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private EvolverSerializer Serializer => Assert.IsType<EvolverSerializer>(_system.Serialization.FindSerializerForType(typeof(RunFinished)));

    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Storage", "Golden", name + ".json")).TrimEnd();

    private static readonly DateTime At = new(2026, 11, 30, 10, 0, 0, 123, DateTimeKind.Utc);

    private static readonly global::EvolverActors.Actors.Lineage.Recipe Recipe = new(global::EvolverActors.Actors.Lineage.Recipe.CurrentFormat, 41, 2, "m-0123456789abcdef0123456789abcdef", [0],
        ["o-fedcba9876543210fedcba9876543210"], "evolver", 0.5, 0.25, "binomial", true, "layer", "^classifier\\.", "raw", 12345678901234567890UL);

    /// <summary>
    /// The event's bytes equal its golden file, and the file reads back to the event. With EVOLVER_APPROVE=1 a missing
    /// golden file is written instead (review it, then commit it): the shape is approved once, never changed silently.
    /// </summary>
    /// <remarks><paramref name="file"/>: the golden file's name when it is not the manifest (a second shape of one event).</remarks>
    private void AssertGolden(object e, string name, Func<object, object, bool>? same = null, string? file = null)
    {
        file ??= name;
        var json = Encoding.UTF8.GetString(Serializer.ToBinary(e));
        var source = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Storage", "Golden", file + ".json");
        if (Environment.GetEnvironmentVariable("EVOLVER_APPROVE") == "1" && !File.Exists(source))
        {
            File.WriteAllText(source, json + "\n");
        }
        Assert.Equal(Golden(file), json);
        Assert.Equal(name, Serializer.Manifest(e));
        var back = Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden(file)), name);
        Assert.Equal(json, Encoding.UTF8.GetString(Serializer.ToBinary(back)));
    }

    [Fact]
    public void RecipeAccepted_keeps_its_golden_json() =>
        AssertGolden(new RecipeAccepted(7, Recipe, Recipe.ComputeId(), "m-0123456789abcdef0123456789abcdef", "00112233445566778899aabbccddeeff",
            0.9125, 0.9, 42, "evaluator-0-cpu", At, Guard: 0.885, PreviousGuard: 0.88), nameof(RecipeAccepted));

    [Fact]
    public void RecipeRejected_keeps_its_golden_json() =>
        AssertGolden(new RecipeRejected(43, 1, "evolver", 0.5, 7, "0.5000 <= S 0.9125", 44, At, Guard: 0.75), nameof(RecipeRejected));

    [Fact]
    public void Decisions_and_snapshots_stored_before_the_guard_read_without_one()
    {
        var accepted = Assert.IsType<RecipeAccepted>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("RecipeAccepted-before-guard")), nameof(RecipeAccepted)));
        Assert.Equal((0.9125, (double?)null, (double?)null), (accepted.Score, accepted.Guard, accepted.PreviousGuard));
        var rejected = Assert.IsType<RecipeRejected>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("RecipeRejected-before-guard")), nameof(RecipeRejected)));
        Assert.Null(rejected.Guard);
        var snapshot = Assert.IsType<StewardSnapshot>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("StewardSnapshot-before-guard")), nameof(StewardSnapshot)));
        Assert.Null(snapshot.State.SlotGuards);
        Assert.Null(snapshot.State.BestGuardVersion);
        Assert.Equal(0.69, snapshot.State.PopulationScore);
    }

    [Fact]
    public void RecipeFailed_keeps_its_golden_json() =>
        AssertGolden(new RecipeFailed(44, 0, "evolver", "evaluator-1-cpu: worker exited", 45, At), nameof(RecipeFailed));

    [Fact]
    public void RunFinished_keeps_its_golden_json() =>
        AssertGolden(new RunFinished("max-evaluations (1000) reached", At, new BudgetValues(1000, null, 0.95, 0)), nameof(RunFinished));

    [Fact]
    public void RunReopened_keeps_its_golden_json() =>
        AssertGolden(new RunReopened("max-evaluations (1000) reached", new BudgetValues(2000, null, 0.95, 0), At), nameof(RunReopened));

    [Fact]
    public void A_finish_stored_before_its_budget_was_kept_reads_with_none()
    {
        var e = Assert.IsType<RunFinished>(Serializer.FromBinary(Encoding.UTF8.GetBytes("""{"Reason":"max-evaluations (100) reached","At":"2026-11-30T10:00:00.123Z"}"""), nameof(RunFinished)));
        Assert.Equal(("max-evaluations (100) reached", (BudgetValues?)null), (e.Reason, e.Budget));
    }

    [Fact]
    public void PopulationSnapshotted_keeps_its_golden_json() =>
        AssertGolden(new PopulationSnapshotted(120, 14, At), nameof(PopulationSnapshotted));

    [Fact]
    public void A_steward_snapshot_keeps_its_golden_json()
    {
        var state = new StewardState();
        state.Apply(new RunInitialized(["m-a", "m-b", "m-c"], [0.5, 0.6, 0.7], 0.65, 1, At, [0.62, 0.62, 0.62], 0.62));
        state.Apply(new RecipeRejected(0, 1, "evolver", 0.5, 0, "0.5000 <= S 0.6500", 2, At, 0.55));
        state.Apply(new RecipeAccepted(1, Recipe with { Sequence = 1 }, "o-00000000000000000000000000000001", "m-c", "ffeeddccbbaa99887766554433221100", 0.7, 0.65, 3, "evaluator-0-cpu", At,
            0.63, 0.62));
        state.Apply(Budget);
        state.Apply(Admitted);
        state.Apply(Retired);
        AssertGolden(new StewardSnapshot(state), nameof(StewardSnapshot));
    }

    private static readonly global::EvolverActors.Actors.Lineage.Recipe Coefficients =
        global::EvolverActors.Actors.Lineage.Recipe.ForCoefficients(2, [0, 1, 2], ["m-a", "m-b", "m-c"], [0.25, -0.5, 0.125, 1.5, 0, -1]);

    [Fact]
    public void A_coefficient_search_s_acceptance_and_snapshot_keep_their_golden_json()
    {
        var accepted = new RecipeAccepted(1, Coefficients, Coefficients.ComputeId(), "", "00112233445566778899aabbccddeeff", 0.72, 0.65, 4, "evaluator-0-cpu", At);
        AssertGolden(accepted, nameof(RecipeAccepted), file: "RecipeAccepted-coefficients");
        var back = Assert.IsType<RecipeAccepted>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("RecipeAccepted-coefficients")), nameof(RecipeAccepted)));
        Assert.Equal(Coefficients.Coefficients, back.Recipe.Coefficients);
        Assert.Equal(Coefficients.ComputeId(), back.Recipe.ComputeId());

        var state = new StewardState();
        state.Apply(new RunInitialized(["m-a", "m-b", "m-c"], [0.5, 0.6, 0.7], 0.65, 1, At));
        state.Apply(new RecipeRejected(0, 0, "cma-es", 0.6, 0, "0.6000 <= best merge 0.6500", 2, At));
        state.Apply(new RecipeFailed(1, 0, "cma-es", "evaluator-1-cpu: worker exited", 3, At));
        state.Apply(accepted);
        AssertGolden(new StewardSnapshot(state), nameof(StewardSnapshot), file: "StewardSnapshot-coefficients");
    }

    private static readonly MemberAdmitted Admitted = new(3, "a-0123456789abcdef0123456789abcdef", "legal-finetune", "/models/legal-finetune",
        "0123456789abcdef0123456789abcdef", 0.71, 0.69, 2, At, Statistics: "s-fedcba9876543210fedcba9876543210");

    private static readonly MemberRetired Retired = new(0, "m-a", "retired by the operator", null, 3, At);

    [Fact]
    public void MemberAdmitted_keeps_its_golden_json() => AssertGolden(Admitted, nameof(MemberAdmitted));

    [Fact]
    public void An_admission_stored_before_statistics_were_named_reads_with_none()
    {
        var before = Assert.IsType<MemberAdmitted>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("MemberAdmitted-before-statistics")), nameof(MemberAdmitted)));
        Assert.Null(before.Statistics);
        Assert.Equal("legal-finetune", before.Name);
        var snapshot = Assert.IsType<StewardSnapshot>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("StewardSnapshot-before-statistics")), nameof(StewardSnapshot)));
        Assert.Empty(snapshot.State.AdmittedStatistics);
        Assert.All(snapshot.State.Views, v => Assert.Null(v.Statistics));
        Assert.Equal([new(1), new(2), new(3)], snapshot.State.View().MemberKeys());
    }

    [Fact]
    public void MemberRetired_keeps_its_golden_json() => AssertGolden(Retired, nameof(MemberRetired));

    [Fact]
    public void A_snapshot_written_before_membership_changes_reads_with_every_slot_in_the_population()
    {
        var snapshot = Assert.IsType<StewardSnapshot>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("StewardSnapshot-before-membership")), nameof(StewardSnapshot)));
        Assert.Empty(snapshot.State.RetiredSlots);
        Assert.Equal(0, snapshot.State.Admitted);
        Assert.Equal(3, snapshot.State.ActiveCount);
        Assert.All(snapshot.State.Views, v => Assert.Equal([0, 1, 2], v.ActiveSlots()));
    }

    private static readonly BudgetChanged Budget = new(5000, null, 0.95, null, new BudgetValues(1000, 43200, null, 0), At);

    [Fact]
    public void BudgetChanged_keeps_its_golden_json() => AssertGolden(Budget, nameof(BudgetChanged));

    [Fact]
    public void A_snapshot_written_before_budget_changes_reads_with_no_change_and_counts_acceptances_from_then_on()
    {
        var snapshot = Assert.IsType<StewardSnapshot>(Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden("StewardSnapshot-before-budgets")), nameof(StewardSnapshot)));
        Assert.Null(snapshot.State.Budget);
        Assert.Empty(snapshot.State.AcceptedByOperator);
        Assert.Equal(1, snapshot.State.Accepted);
    }

    [Fact]
    public void A_recipe_id_is_the_content_address_of_every_field()
    {
        Assert.Equal(Recipe.ComputeId(), (Recipe with { ParentWeights = [.. Recipe.ParentWeights] }).ComputeId());
        Assert.NotEqual(Recipe.ComputeId(), (Recipe with { Seed = Recipe.Seed + 1 }).ComputeId());
        Assert.NotEqual(Recipe.ComputeId(), (Recipe with { Sequence = 42 }).ComputeId());
        Assert.NotEqual(Recipe.ComputeId(), (Recipe with { ParentWeights = ["o-other"] }).ComputeId());
        Assert.Matches("^o-[0-9a-f]{32}$", Recipe.ComputeId());
    }

    [Fact]
    public void OffspringEvaluationFailed_keeps_its_golden_json()
    {
        var e = new OffspringEvaluationFailed(2, "evolver", "evaluator-0-meta: Tensor on device meta has no data", 17,
            new DateTime(2025, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc));
        var json = Encoding.UTF8.GetString(Serializer.ToBinary(e));
        Assert.Equal(Golden(nameof(OffspringEvaluationFailed)), json);
        Assert.Equal(nameof(OffspringEvaluationFailed), Serializer.Manifest(e));
        Assert.Equal(e, Serializer.FromBinary(Encoding.UTF8.GetBytes(Golden(nameof(OffspringEvaluationFailed))), nameof(OffspringEvaluationFailed)));
    }

    [Fact]
    public void A_snapshot_written_before_failed_evaluations_were_counted_reads_with_none()
    {
        const string older = """
            {"State":{"SlotWeights":["init-0","init-1"],"SlotScores":[0.5,0.5],"PopulationScore":0.5,"Version":0,"Evaluations":7,
            "Accepted":0,"Rejected":6,"Dropped":2,"LastAcceptedAt":0,"Initialized":true,"FinishedReason":null,
            "RejectedByOperator":{"evolver":6},"RejectedBySlot":[3,3]}}
            """;
        var snapshot = Assert.IsType<StewardSnapshot>(Serializer.FromBinary(Encoding.UTF8.GetBytes(older), nameof(StewardSnapshot)));
        Assert.Equal((7L, 2L, 0L), (snapshot.State.Evaluations, snapshot.State.Dropped, snapshot.State.Failed));
    }
}
