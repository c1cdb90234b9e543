using System.Globalization;
using System.Text;
using System.Text.Json;
using nietras.SeparatedValues;

namespace EvolverActors.Tensors.Data;

/// <summary>The layouts of a labelled text file.</summary>
public enum TextFormat
{
    /// <summary>One JSON object per line (<c>{"text": "...", "label": 1}</c>).</summary>
    Jsonl,

    /// <summary>Comma-separated (or tab-, semicolon-separated) values with a header row; quoted fields may hold newlines.</summary>
    Csv,
}

/// <summary>One example as read from a file: its text, its label as written, and where it is (for messages).</summary>
public sealed record TextRecord(string Text, string Label, string Where);

/// <summary>
/// Reads and writes labelled texts as JSONL or CSV, with the text and label fields named by the task. Every problem
/// (missing file, a line that is not JSON, a missing field, a label that is neither text nor a whole number) is one
/// line naming the file and the line.
/// </summary>
public static class TextFiles
{
    /// <summary>The format of <paramref name="path"/>: <paramref name="given"/>, else from the extension (.jsonl/.ndjson, .csv/.tsv).</summary>
    public static TextFormat FormatOf(string path, TextFormat? given)
    {
        if (given is { } format)
        {
            return format;
        }
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jsonl" or ".ndjson" => TextFormat.Jsonl,
            ".csv" or ".tsv" => TextFormat.Csv,
            var other => throw new EvolverException(
                $"{path}: cannot tell the format from the extension '{other}': name the file .jsonl or .csv, or set format = jsonl | csv"),
        };
    }

    /// <summary>Every example of the file, in file order.</summary>
    public static IReadOnlyList<TextRecord> Read(string path, TextFormat format, string textField, string labelField)
    {
        if (!File.Exists(path))
        {
            throw new EvolverException($"{path}: no such data file");
        }
        var records = format == TextFormat.Jsonl ? ReadJsonl(path, textField, labelField) : ReadCsv(path, textField, labelField);
        return records.Count > 0 ? records : throw new EvolverException($"{path}: holds no examples");
    }

    /// <summary>Writes <paramref name="set"/> as JSONL; labels as class names when <paramref name="namedLabels"/>, else as numbers.</summary>
    public static void WriteJsonl(string path, TextSet set, bool namedLabels, string textField = "text", string labelField = "label")
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        for (var i = 0; i < set.Count; i++)
        {
            writer.Write(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                [textField] = set.Texts[i],
                [labelField] = namedLabels ? set.ClassNames[set.Labels[i]] : set.Labels[i],
            }));
            writer.Write('\n');
        }
    }

    private static List<TextRecord> ReadJsonl(string path, string textField, string labelField)
    {
        var records = new List<TextRecord>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            var where = $"{path}: line {line}";
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new EvolverException($"{where}: not valid JSON ({e.Message.Split('\n')[0]})");
            }
            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    throw new EvolverException($"{where}: not a JSON object");
                }
                var value = Field(root, textField, where);
                if (value.ValueKind != JsonValueKind.String)
                {
                    throw new EvolverException($"{where}: field '{textField}' is not a string");
                }
                records.Add(new TextRecord(value.GetString()!, Label(Field(root, labelField, where), labelField, where), where));
            }
        }
        return records;
    }

    private static JsonElement Field(JsonElement root, string name, string where) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new EvolverException($"{where}: no field '{name}' (fields: {string.Join(", ", root.EnumerateObject().Select(p => p.Name))})");

    private static string Label(JsonElement value, string field, string where) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number when value.TryGetInt64(out var whole) => whole.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number when value.TryGetDouble(out var number) && number == Math.Floor(number) && Math.Abs(number) < int.MaxValue =>
            ((long)number).ToString(CultureInfo.InvariantCulture),
        _ => throw new EvolverException($"{where}: field '{field}' = {value.GetRawText()} is neither a class name nor a whole number"),
    };

    private static List<TextRecord> ReadCsv(string path, string textField, string labelField)
    {
        var records = new List<TextRecord>();
        var line = 1;
        try
        {
            // StreamReader drops a BOM; Sep finds the separator in the header and handles quotes and newlines in fields.
            using var stream = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            using var reader = Sep.Reader(o => o with { HasHeader = true, Unescape = true }).From(stream);
            var columns = reader.Header.ColNames;
            int Column(string name) => reader.Header.TryIndexOf(name, out var index)
                ? index
                : throw new EvolverException($"{path}: line 1: no column '{name}' in the header (columns: {string.Join(", ", columns)})");
            var (textColumn, labelColumn) = (Column(textField), Column(labelField));
            foreach (var row in reader)
            {
                line = row.LineNumberFrom;
                var where = $"{path}: line {line}";
                if (row.ColCount <= Math.Max(textColumn, labelColumn))
                {
                    throw new EvolverException($"{where}: has {row.ColCount} fields, the header {columns.Count}");
                }
                var label = row[labelColumn].ToString().Trim();
                if (label.Length == 0)
                {
                    throw new EvolverException($"{where}: field '{labelField}' is empty");
                }
                records.Add(new TextRecord(row[textColumn].ToString(), label, where));
            }
        }
        catch (InvalidDataException e)
        {
            throw new EvolverException($"{path}: line {line}: not valid CSV ({e.Message.Split('\n')[0]})");
        }
        return records;
    }
}
