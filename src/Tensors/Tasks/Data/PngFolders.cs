using SkiaSharp;

namespace EvolverActors.Tensors.Data;

/// <summary>
/// Images in a folder per class (<c>DIR/&lt;class&gt;/*.png</c>, the torchvision ImageFolder layout): decoded with
/// SkiaSharp to 8-bit grayscale (colour images by luminance) and scaled to [0, 1]. Files are read in name order, so
/// a folder always gives the same set. Files that are not .png are skipped.
/// </summary>
public static class PngFolders
{
    /// <summary>The class folders of <paramref name="directory"/>, names sorted (ordinal): the class names of a layout.</summary>
    public static IReadOnlyList<string> ClassFolders(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new EvolverException($"{directory}: no such image folder");
        }
        var classes = Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>()
            .Where(name => !name.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        return classes.Count > 0 ? classes : throw new EvolverException($"{directory}: has no class folders (expected DIR/<class>/*.png)");
    }

    /// <summary>
    /// Every image under <paramref name="directory"/> with its class folder's name, all of one size; the size is
    /// the first image's.
    /// </summary>
    public static (IReadOnlyList<float[]> Images, IReadOnlyList<(string Class, string File)> Sources, int Rows, int Columns) Read(string directory)
    {
        var images = new List<float[]>();
        var sources = new List<(string, string)>();
        var (rows, columns) = (0, 0);
        foreach (var name in ClassFolders(directory))
        {
            var files = Directory.GetFiles(Path.Combine(directory, name))
                .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                var (pixels, height, width) = Decode(file);
                if (images.Count == 0)
                {
                    (rows, columns) = (height, width);
                }
                else if ((height, width) != (rows, columns))
                {
                    throw new EvolverException($"{file}: is {width}x{height}, the images before it {columns}x{rows}: every image of a task has one size");
                }
                images.Add(pixels);
                sources.Add((name, file));
            }
        }
        return images.Count > 0 ? (images, sources, rows, columns) : throw new EvolverException($"{directory}: its class folders hold no .png files");
    }

    /// <summary>One PNG as grayscale pixels in [0, 1], row-major.</summary>
    public static (float[] Pixels, int Rows, int Columns) Decode(string file)
    {
        using var data = SKData.Create(file);
        using var codec = data is null ? null : SKCodec.Create(data);
        if (codec is null || codec.EncodedFormat != SKEncodedImageFormat.Png)
        {
            throw new EvolverException($"{file}: not a PNG image");
        }
        // Skia decodes gray PNGs to gray; colour ones are decoded premultiplied (over black) and turned to luminance.
        var gray = codec.Info.ColorType == SKColorType.Gray8;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888,
            gray ? SKAlphaType.Opaque : SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not SKCodecResult.Success)
        {
            throw new EvolverException($"{file}: the PNG could not be decoded ({result})");
        }
        var bytes = bitmap.GetPixelSpan();
        var pixels = new float[info.Width * info.Height];
        for (var y = 0; y < info.Height; y++)
        {
            var row = bytes.Slice(y * bitmap.RowBytes, info.Width * info.BytesPerPixel);
            for (var x = 0; x < info.Width; x++)
            {
                pixels[(y * info.Width) + x] = gray
                    ? row[x] / 255f
                    : (float)((0.299 * row[4 * x]) + (0.587 * row[(4 * x) + 1]) + (0.114 * row[(4 * x) + 2])) / 255f;
            }
        }
        return (pixels, info.Height, info.Width);
    }

    /// <summary>Writes one grayscale image (pixels in [0, 1], row-major) as an 8-bit PNG.</summary>
    public static void WritePng(string file, float[] pixels, int rows, int columns)
    {
        var info = new SKImageInfo(columns, rows, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var bytes = bitmap.GetPixelSpan();
        for (var y = 0; y < rows; y++)
        {
            for (var x = 0; x < columns; x++)
            {
                bytes[(y * bitmap.RowBytes) + x] = (byte)Math.Round(Math.Clamp(pixels[(y * columns) + x], 0, 1) * 255);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        using var output = File.Create(file);
        png.SaveTo(output);
    }
}
