using System.IO.Compression;
using EvolverActors.Tensors.Assets;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Data;

/// <summary>
/// The 1 797 UCI optical digits shipped with scikit-learn (Debian <c>python3-sklearn</c>,
/// <c>digits.csv.gz</c>: 64 counts 0..16 and the label per line), made to look like MNIST for an
/// out-of-domain test: each 8×8 digit is scaled to [0, 1], bilinearly resized to a 20×20 box, set in a
/// 28×28 frame and shifted so that its centre of mass sits at the frame centre — the steps of MNIST's own
/// preprocessing (digit fitted to 20×20, centred by mass in 28×28).
/// </summary>
public static class SklearnDigits
{
    public const int SourceSide = 8;

    /// <param name="store">Where the Debian package is cached.</param>
    /// <param name="size">Output side; 8 keeps the original 8×8 images, larger sides use a box of 20/28 of it.</param>
    public static ImageSet Load(AssetStore store, int size = 28)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, SourceSide);
        var path = store.SklearnDigitsCsv;
        var (raw, labels) = ReadCsv(path);
        var images = size == SourceSide ? raw : Resize(raw, size);
        return new ImageSet("sklearn-digits", images, size, size, labels, MnistDigits.DigitClassNames);
    }

    private static (List<float[]> Images, List<int> Labels) ReadCsv(string path)
    {
        const int values = SourceSide * SourceSide;
        var images = new List<float[]>(1797);
        var labels = new List<int>(1797);
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var fields = line.Split(',');
            if (fields.Length != values + 1)
            {
                throw new EvolverException($"{path}: line {lineNumber} has {fields.Length} fields, expected {values + 1}");
            }
            var image = new float[values];
            for (var i = 0; i < values; i++)
            {
                image[i] = float.Parse(fields[i]) / 16f;
            }
            var label = (int)float.Parse(fields[values]);
            if (label is < 0 or > 9)
            {
                throw new EvolverException($"{path}: line {lineNumber} has label {label}, expected 0..9");
            }
            images.Add(image);
            labels.Add(label);
        }
        return (images, labels);
    }

    private static List<float[]> Resize(List<float[]> raw, int size)
    {
        var box = (int)Math.Round(size * 20.0 / 28.0);
        float[] boxed;
        using (NewDisposeScope())
        {
            var flat = raw.SelectMany(x => x).ToArray();
            var batch = tensor(flat, [raw.Count, 1, SourceSide, SourceSide]);
            var resized = nn.functional.interpolate(batch, size: [box, box], mode: InterpolationMode.Bilinear, align_corners: false);
            boxed = resized.clamp(0, 1).contiguous().data<float>().ToArray();
        }
        var images = new List<float[]>(raw.Count);
        for (var n = 0; n < raw.Count; n++)
        {
            images.Add(Frame(boxed.AsSpan(n * box * box, box * box), box, size));
        }
        return images;
    }

    /// <summary>Puts a box×box digit in a size×size frame with its centre of mass at the frame centre.</summary>
    private static float[] Frame(ReadOnlySpan<float> digit, int box, int size)
    {
        double mass = 0, rowSum = 0, colSum = 0;
        for (var r = 0; r < box; r++)
        {
            for (var c = 0; c < box; c++)
            {
                var v = digit[r * box + c];
                mass += v;
                rowSum += v * r;
                colSum += v * c;
            }
        }
        var margin = (size - box) / 2;
        var centre = (size - 1) / 2.0;
        // Top-left corner of the box: centred by mass, or plainly centred for a blank image.
        var top = mass > 0 ? (int)Math.Round(centre - rowSum / mass) : margin;
        var left = mass > 0 ? (int)Math.Round(centre - colSum / mass) : margin;
        var image = new float[size * size];
        for (var r = 0; r < box; r++)
        {
            var y = top + r;
            if (y < 0 || y >= size)
            {
                continue;
            }
            for (var c = 0; c < box; c++)
            {
                var x = left + c;
                if (x >= 0 && x < size)
                {
                    image[y * size + x] = digit[r * box + c];
                }
            }
        }
        return image;
    }
}
