namespace EvolverActors.Tensors.Assets;

/// <summary>
/// A package with data or weights that could not be fetched or did not verify. The message is one line naming
/// the package, the cause and the command that gets it by hand; callers print it without a stack trace.
/// </summary>
public sealed class AssetUnavailableException(string asset, string cause, string byHand)
    : EvolverException($"asset {asset} could not be fetched ({cause}): {byHand}")
{
    /// <summary>The package, as <c>npm:name@version</c> or <c>deb:name</c>.</summary>
    public string Asset { get; } = asset;
    public string Cause { get; } = cause;
}
