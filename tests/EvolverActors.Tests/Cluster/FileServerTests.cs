using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using EvolverActors.Host.Files;
using Xunit;

namespace EvolverActors.Tests.Cluster;

/// <summary>The coordinator's file server (docs/architecture.md §4): by content hash only, with ranges, behind the run's token.</summary>
public sealed class FileServerTests
{
    [Fact]
    public async Task A_range_request_gets_206_and_exactly_those_bytes()
    {
        await using var fixture = await SideChannelFixture.StartAsync();
        var bytes = await File.ReadAllBytesAsync(fixture.SingleFile, TestContext.Current.CancellationToken);

        using var response = await fixture.Http.SendAsync(fixture.Get(FileServer.FilesRoute + fixture.SingleSha, from: 100, to: 1099), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(bytes[100..1100], await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal(bytes.Length, response.Content.Headers.ContentRange!.Length);
    }

    [Fact]
    public async Task A_whole_file_and_a_sharded_members_listing_come_by_content_hash()
    {
        await using var fixture = await SideChannelFixture.StartAsync();

        var whole = await fixture.Http.SendAsync(fixture.Get(FileServer.FilesRoute + fixture.SingleSha), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(fixture.SingleFile, TestContext.Current.CancellationToken), await whole.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));

        var listing = await (await fixture.Http.SendAsync(fixture.Get(FileServer.MembersRoute + fixture.ShardedSha), TestContext.Current.CancellationToken))
            .Content.ReadFromJsonAsync<MemberListing>(TestContext.Current.CancellationToken);
        Assert.NotNull(listing);
        Assert.Equal(fixture.ShardedSha, listing.Sha256);
        Assert.True(listing.Files.Count >= 3, $"{listing.Files.Count} files: the shards and the index");
        Assert.Contains(listing.Files, f => f.Name == "model.safetensors.index.json");
        foreach (var file in listing.Files)
        {
            using var response = await fixture.Http.SendAsync(fixture.Get(FileServer.FilesRoute + file.Sha256), TestContext.Current.CancellationToken);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(fixture.Sharded, file.Name), TestContext.Current.CancellationToken),
                await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task An_unknown_hash_is_404()
    {
        await using var fixture = await SideChannelFixture.StartAsync();
        var unknown = new string('a', 64);

        using var file = await fixture.Http.SendAsync(fixture.Get(FileServer.FilesRoute + unknown), TestContext.Current.CancellationToken);
        using var member = await fixture.Http.SendAsync(fixture.Get(FileServer.MembersRoute + unknown), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, member.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    [InlineData("")]
    public async Task No_or_a_wrong_token_is_401(string? token)
    {
        await using var fixture = await SideChannelFixture.StartAsync();

        using var response = await fixture.Http.SendAsync(fixture.Get(FileServer.FilesRoute + fixture.SingleSha, token), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("model.safetensors")]
    public async Task Anything_but_a_content_hash_is_refused(string name)
    {
        await using var fixture = await SideChannelFixture.StartAsync();

        using var response = await fixture.Http.SendAsync(fixture.Get(FileServer.FilesRoute + name), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_raw_dot_dot_path_never_reaches_a_file()
    {
        await using var fixture = await SideChannelFixture.StartAsync();
        var uri = new Uri(fixture.Server.Url);

        // HttpClient normalizes "..", so the request line is written by hand.
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        var request = $"GET {FileServer.FilesRoute}../../../../etc/passwd HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {SideChannelFixture.Token}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var answer = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);

        Assert.Matches(@"^HTTP/1\.1 (400|404) ", answer);
        Assert.DoesNotContain("root:", answer, StringComparison.Ordinal);
    }
}
