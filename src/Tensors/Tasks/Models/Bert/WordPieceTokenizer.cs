using System.Text;

namespace EvolverActors.Tensors.Models.Bert;

/// <summary>
/// BERT's WordPiece tokenizer over a <c>vocab.txt</c> (FastBertTokenizer, which gives the same ids as Hugging Face's
/// BertTokenizer), uncased unless asked otherwise (a tokenizer's <c>do_lower_case</c>). Encodings start with [CLS]
/// and end with [SEP].
/// </summary>
public sealed class WordPieceTokenizer
{
    public const string VocabularyFileName = "vocab.txt";

    private readonly FastBertTokenizer.BertTokenizer _tokenizer = new();

    // FastBertTokenizer keeps per-call state in the instance: one encoding at a time.
    private readonly Lock _gate = new();

    private WordPieceTokenizer(TextReader vocabulary, bool lowercase)
    {
        _tokenizer.LoadVocabulary(vocabulary, convertInputToLowercase: lowercase);
        Lowercase = lowercase;
    }

    /// <summary>Whether input text is lower-cased before WordPiece (uncased vocabularies).</summary>
    public bool Lowercase { get; }

    /// <summary>A tokenizer over vocab.txt contents (UTF-8 bytes, as read out of a package or file).</summary>
    public static WordPieceTokenizer FromVocabulary(byte[] vocabulary, bool lowercase = true)
    {
        using var reader = new StreamReader(new MemoryStream(vocabulary), Encoding.UTF8);
        return new WordPieceTokenizer(reader, lowercase);
    }

    /// <summary>A tokenizer over a vocab.txt file, or the vocab.txt in a directory (as import-onnx writes).</summary>
    public static WordPieceTokenizer Load(string path, bool lowercase = true)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, VocabularyFileName) : path;
        if (!File.Exists(file))
        {
            throw new EvolverException($"{file}: no vocab.txt");
        }
        using var reader = File.OpenText(file);
        return new WordPieceTokenizer(reader, lowercase);
    }

    /// <summary>Token ids with [CLS] and [SEP], cut to at most <paramref name="maxLength"/> ids (the [SEP] kept).</summary>
    public long[] Encode(string text, int maxLength = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        // The span overload truncates to the buffer it is given. The Memory-returning overload does not:
        // it sizes its internal buffer on first use and later ignores a smaller maximumTokens.
        var ids = new long[maxLength];
        var mask = new long[maxLength];
        var types = new long[maxLength];
        int count;
        lock (_gate)
        {
            count = _tokenizer.Encode(text, ids, mask, types, padTo: null);
        }
        return ids[..count];
    }
}
