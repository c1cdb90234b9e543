using EvolverActors.Host.Experiment;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Experiment;

/// <summary>An experiment keeps each finished seed, so one that stops resumes at the first unfinished seed.</summary>
public sealed class SeedCheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ExperimentRequest Request(int? evaluations = null, bool quick = false) =>
        new("sentiment-minilm", Seeds: 5, Quick: quick, OutDirectory: _dir.Path, RunsRoot: _dir.File("runs"), Evaluations: evaluations, Command: "evolver experiment");

    private static readonly SeedResult[] Results =
    [
        new("average", 1, 0.61, 0.62, 0.45, 1, 1.5, "defaults"),
        new("evolver+average", 1, 0.65, 0.63, 0.47, 76, 98.25, "4 accepted"),
    ];

    private static readonly SeedResult[] Generational = [new("evolver-individual (generational)", 1, 0.66, 0.6, 0.5, 80, 90, "17 accepted")];

    private static readonly Curve[] Curves = [new("evolver+average", "steady-state", 1, [new(0, 0, 0.6), new(40, 51.5, 0.65)])];

    [Fact]
    public void A_finished_seed_reads_back_as_it_was_written()
    {
        var checkpoint = SeedCheckpoint.For(Request());
        var path = checkpoint.Save(1, Results, Generational, Curves);
        Assert.Equal(Path.Combine(_dir.Path, "sentiment-minilm-seeds", "seed-1.json"), path);

        var (record, why) = SeedCheckpoint.For(Request()).Load(1);

        Assert.Null(why);
        Assert.NotNull(record);
        Assert.Equal(Results, record.Results);
        Assert.Equal(Generational, record.Generational);
        var curve = Assert.Single(record.Curves);
        Assert.Equal(Curves[0].Points, curve.Points);
        Assert.Equal((null, null), SeedCheckpoint.For(Request()).Load(2));
    }

    [Fact]
    public void A_seed_made_with_other_settings_or_unreadable_runs_again_and_says_why()
    {
        SeedCheckpoint.For(Request()).Save(0, Results, Generational, Curves);

        var (other, why) = SeedCheckpoint.For(Request(evaluations: 40)).Load(0);
        Assert.Null(other);
        Assert.Contains("made with other settings", why, StringComparison.Ordinal);

        // The quick size keeps its seeds apart from the default size's.
        Assert.Equal((null, null), SeedCheckpoint.For(Request(quick: true)).Load(0));

        File.WriteAllText(Path.Combine(_dir.Path, "sentiment-minilm-seeds", "seed-3.json"), "{ not json");
        var (broken, reason) = SeedCheckpoint.For(Request()).Load(3);
        Assert.Null(broken);
        Assert.Contains("seed-3.json: unreadable", reason, StringComparison.Ordinal);
    }
}
