namespace EvolverActors.Tensors.Data;

/// <summary>Labelled examples of one split (train, dev, test or out-of-domain) of one dataset.</summary>
public abstract record LabelledSet(string Name, IReadOnlyList<int> Labels, IReadOnlyList<string> ClassNames)
{
    public int Count => Labels.Count;
    public int ClassCount => ClassNames.Count;

    /// <summary>The examples at <paramref name="indices"/>, in that order, as a new set named <paramref name="name"/>.</summary>
    public abstract LabelledSet Subset(string name, IReadOnlyList<int> indices);
}

/// <summary>One-channel images, row-major pixels in [0, 1].</summary>
public sealed record ImageSet(string Name, IReadOnlyList<float[]> Images, int Height, int Width,
    IReadOnlyList<int> Labels, IReadOnlyList<string> ClassNames) : LabelledSet(Name, Labels, ClassNames)
{
    public override ImageSet Subset(string name, IReadOnlyList<int> indices) =>
        this with { Name = name, Images = [.. indices.Select(i => Images[i])], Labels = [.. indices.Select(i => Labels[i])] };
}

/// <summary>Texts (sentences or documents) with class labels.</summary>
public sealed record TextSet(string Name, IReadOnlyList<string> Texts,
    IReadOnlyList<int> Labels, IReadOnlyList<string> ClassNames) : LabelledSet(Name, Labels, ClassNames)
{
    public override TextSet Subset(string name, IReadOnlyList<int> indices) =>
        this with { Name = name, Texts = [.. indices.Select(i => Texts[i])], Labels = [.. indices.Select(i => Labels[i])] };
}
