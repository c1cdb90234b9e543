using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Zoo;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Tasks;

/// <summary>Where and how a zoo is built: output directory, seed, asset cache, device, progress log.</summary>
public sealed record ZooBuildContext(string Output, int Seed, AssetStore Store, Device Device, Action<string> Log);

/// <summary>
/// An optional capability of a task kind: it can build a zoo (a base, a fine-tuned population, its statistics,
/// scores and manifest) for a task it parsed, so that <c>evolver zoo build --recipe NAME</c> finds the recipe through
/// the <see cref="TaskRegistry"/>. A zoo also exports its dev / test / ood splits as files under <c>data/</c>, with a
/// ready-to-use <c>task.conf</c> for the data-driven kinds.
/// </summary>
public interface IZooRecipe
{
    /// <summary>Builds the zoo of <paramref name="task"/> (made by this kind's <see cref="ITaskKind.Parse"/>).</summary>
    ZooManifest Build(IEvaluationTask task, ZooBuildContext context);
}
