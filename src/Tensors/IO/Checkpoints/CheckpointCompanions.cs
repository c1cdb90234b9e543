namespace EvolverActors.Tensors.Checkpoints;

/// <summary>
/// The files of a Hugging Face checkpoint directory that are not weights and that loading it needs
/// (<c>AutoModel.from_pretrained</c>, <c>AutoTokenizer.from_pretrained</c>): the model config, the generation config,
/// the tokenizer and processor files, and remote code. One list for everything that writes a checkpoint made from
/// others (<c>evolver merge</c>, <c>evolver export</c>, the candidates of an external evaluator), each taking them
/// from its first model.
/// </summary>
public static class CheckpointCompanions
{
    /// <summary>The file names, copied when they exist.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
    [
        "config.json",
        "generation_config.json",
        "preprocessor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
        "tokenizer.model",
        "spiece.model",
        "sentencepiece.bpe.model",
        "chat_template.jinja",
        "chat_template.json",
    ];

    /// <summary>Patterns for files whose names vary: tiktoken vocabularies, and model or tokenizer code (trust_remote_code).</summary>
    public static IReadOnlyList<string> Patterns { get; } = ["*.tiktoken", "*.py"];

    /// <summary>
    /// The directory a checkpoint's companions live in: the checkpoint itself when it is a directory, else the
    /// directory of its .safetensors or index file.
    /// </summary>
    public static string DirectoryOf(string checkpoint) =>
        Directory.Exists(checkpoint) ? Path.GetFullPath(checkpoint) : Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;

    /// <summary>The companion files next to <paramref name="checkpoint"/> (full paths, list order, then patterns in name order).</summary>
    public static IReadOnlyList<string> Find(string checkpoint)
    {
        var directory = DirectoryOf(checkpoint);
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var named = FileNames.Select(n => Path.Combine(directory, n)).Where(File.Exists);
        var matched = Patterns.SelectMany(p => Directory.EnumerateFiles(directory, p).Order(StringComparer.Ordinal));
        return [.. named.Concat(matched).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Copies the companions of <paramref name="checkpoint"/> into <paramref name="directory"/> (replacing files of
    /// the same names) and returns the copies' paths. A file that cannot be read or written is an
    /// <see cref="EvolverException"/> naming it.
    /// </summary>
    public static IReadOnlyList<string> CopyInto(string checkpoint, string directory)
    {
        var copied = new List<string>();
        foreach (var source in Find(checkpoint))
        {
            var target = Path.Combine(directory, Path.GetFileName(source));
            if (Path.GetFullPath(target) == source)
            {
                continue;
            }
            try
            {
                File.Copy(source, target, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new EvolverException($"{source}: cannot copy it into {directory}: {e.Message}");
            }
            copied.Add(target);
        }
        return copied;
    }
}
