using EvolverActors.Actors.Storage;
using EvolverActors.Host.Files;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>A node's fetching cache (docs/architecture.md §4): resumes, verifies, refuses tampered bytes, and does not fetch twice.</summary>
public sealed class WeightFetcherTests
{
    [Fact]
    public async Task A_member_is_fetched_verified_and_opens_as_the_same_checkpoint()
    {
        await using var fixture = await SideChannelFixture.StartAsync();

        var (single, downloaded) = await fixture.Fetcher().FetchMemberAsync(fixture.SingleSha, TestContext.Current.CancellationToken);
        var (sharded, _) = await fixture.Fetcher().FetchMemberAsync(fixture.ShardedSha, TestContext.Current.CancellationToken);

        Assert.Equal(new FileInfo(fixture.SingleFile).Length, downloaded);
        Assert.Equal(fixture.SingleSha, RunFingerprint.Sha256OfCheckpoint(single));
        Assert.Equal(fixture.ShardedSha, RunFingerprint.Sha256OfCheckpoint(sharded));
        using var reader = Checkpoint.Open(sharded);
        Assert.True(reader.Files.Count >= 3);
        Assert.Empty(Directory.EnumerateFiles(fixture.Cache, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_partial_download_is_resumed_with_a_range_request()
    {
        await using var fixture = await SideChannelFixture.StartAsync();
        var bytes = await File.ReadAllBytesAsync(fixture.SingleFile, TestContext.Current.CancellationToken);
        var destination = Path.Combine(fixture.Cache, "model.safetensors");
        Directory.CreateDirectory(fixture.Cache);
        await File.WriteAllBytesAsync(destination + ".partial", bytes[..5000], TestContext.Current.CancellationToken);

        var downloaded = await fixture.Fetcher().FetchFileAsync(fixture.SingleSha, bytes.Length, destination, TestContext.Current.CancellationToken);

        Assert.Equal(bytes.Length - 5000, downloaded);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(destination, TestContext.Current.CancellationToken));
        Assert.Equal([$"{FileServer.FilesRoute}{fixture.SingleSha} bytes=5000-"], fixture.Requests.Seen);
        Assert.False(File.Exists(destination + ".partial"));
    }

    [Fact]
    public async Task Tampered_bytes_are_refused_in_one_line_naming_the_file_and_both_hashes_and_never_kept()
    {
        await using var fixture = await SideChannelFixture.StartAsync();
        // The coordinator's file changes under its catalog (a flipped byte): the server serves it, the node must refuse it.
        var bytes = await File.ReadAllBytesAsync(fixture.SingleFile, TestContext.Current.CancellationToken);
        bytes[^1] ^= 0x5a;
        await File.WriteAllBytesAsync(fixture.SingleFile, bytes, TestContext.Current.CancellationToken);
        var actual = RunFingerprint.Sha256OfFiles([fixture.SingleFile]);

        var refused = await Assert.ThrowsAsync<EvolverException>(() => fixture.Fetcher().FetchMemberAsync(fixture.SingleSha, TestContext.Current.CancellationToken));

        var member = fixture.Fetcher().MemberDirectory(fixture.SingleSha);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Contains(Path.Combine(member, "model.safetensors"), refused.Message, StringComparison.Ordinal);
        Assert.Contains($"sha256 {actual} differs from the expected {fixture.SingleSha}", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(member, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(member, WeightFetcher.CompleteMarker)));
    }

    [Fact]
    public async Task A_member_in_the_cache_is_not_downloaded_again()
    {
        await using var fixture = await SideChannelFixture.StartAsync();
        await fixture.Fetcher().FetchMemberAsync(fixture.ShardedSha, TestContext.Current.CancellationToken);
        var asked = fixture.Requests.Seen.Count;

        var (directory, downloaded) = await fixture.Fetcher().FetchMemberAsync(fixture.ShardedSha, TestContext.Current.CancellationToken);

        Assert.Equal(0, downloaded);
        Assert.Equal(asked, fixture.Requests.Seen.Count);
        Assert.Equal(fixture.ShardedSha, RunFingerprint.Sha256OfCheckpoint(directory));
        // A node uses it without any server (NodeMembers asks the cache first): the coordinator may be gone.
        await fixture.Server.DisposeAsync();
        Assert.Equal(directory, WeightFetcher.Cached(fixture.Cache, fixture.ShardedSha));
        Assert.Null(WeightFetcher.Cached(fixture.Cache, fixture.SingleSha));
    }

    [Fact]
    public async Task A_wrong_token_is_one_line_naming_the_environment_variable()
    {
        await using var fixture = await SideChannelFixture.StartAsync();

        var refused = await Assert.ThrowsAsync<EvolverException>(() => fixture.Fetcher("nope").FetchMemberAsync(fixture.SingleSha, TestContext.Current.CancellationToken));

        Assert.Contains("refused the token (401)", refused.Message, StringComparison.Ordinal);
        Assert.Contains(FileToken.EnvironmentVariable, refused.Message, StringComparison.Ordinal);
    }
}
