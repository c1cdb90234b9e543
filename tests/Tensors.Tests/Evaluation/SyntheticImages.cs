using EvolverActors.Tensors.Data;

namespace EvolverActors.Tests.Evaluation;

/// <summary>Small labelled image sets made on the fly: class c is a bright horizontal band at row 2c + noise.</summary>
internal static class SyntheticImages
{
    public static ImageSet Bands(string name, int count, int classes, int seed)
    {
        var rng = new Random(seed);
        var images = new List<float[]>();
        var labels = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var label = i % classes;
            var pixels = new float[28 * 28];
            for (var p = 0; p < pixels.Length; p++)
            {
                pixels[p] = (float)(rng.NextDouble() * 0.2);
            }
            for (var x = 0; x < 28; x++)
            {
                pixels[((2 * label) + 2) * 28 + x] = 1;
                pixels[((2 * label) + 3) * 28 + x] = 1;
            }
            images.Add(pixels);
            labels.Add(label);
        }
        return new ImageSet(name, images, 28, 28, labels, [.. Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }
}
