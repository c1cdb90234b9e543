using EvolverActors.Tensors.Weights;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Operators;

/// <summary>Tiny weight sets built on the fly for hand-computed expectations.</summary>
internal static class TinyWeights
{
    public static WeightSet Vector(params float[] values) => WeightSet.Adopt([("w", tensor(values))]);

    public static WeightSet Of(params (string Name, float[] Values)[] entries) =>
        WeightSet.Adopt(entries.Select(e => (e.Name, tensor(e.Values))));

    public static WeightSet Random(long seed, params (string Name, long Size)[] entries)
    {
        using var generator = new Generator((ulong)seed);
        return WeightSet.Adopt(entries.Select(e => (e.Name, randn([e.Size], generator: generator))));
    }

    public static float[] Values(WeightSet set, string name = "w") => set[name].data<float>().ToArray();
}
