using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EvolverActors.Tensors.Checkpoints;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver inspect PATH [--json]</c>: per-tensor statistics of a checkpoint.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path")
        {
            Description = "a .safetensors file, a model.safetensors.index.json, or a directory holding either",
        };
        var json = new Option<bool>("--json") { Description = "print a JSON object instead of a table" };
        var command = new Command("inspect", "show each tensor's dtype, shape, parameter count, min, max, mean and std");
        command.Arguments.Add(path);
        command.Options.Add(json);
        command.SetAction(parseResult => Cli.Guard(() =>
        {
            var summary = CheckpointInspector.Inspect(parseResult.GetValue(path)!);
            if (parseResult.GetValue(json))
            {
                WriteJson(Console.Out, summary);
            }
            else
            {
                WriteTable(Console.Out, summary);
            }
            return 0;
        }));
        return command;
    }

    internal static void WriteTable(TextWriter output, CheckpointSummary summary)
    {
        string[] header = ["name", "dtype", "shape", "params", "min", "max", "mean", "std"];
        var rows = summary.Tensors.Select(t => new[]
        {
            t.Name, t.DTypeCode, t.ShapeText, t.Parameters.ToString(CultureInfo.InvariantCulture),
            Number(t.Min), Number(t.Max), Number(t.Mean), Number(t.Std),
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        // Text columns align left, numeric ones right.
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i < 3 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
        output.WriteLine(Line(header));
        rows.ForEach(r => output.WriteLine(Line(r)));
        var dtypes = string.Join(", ", summary.DTypeCounts.Select(kv => $"{kv.Key} x{kv.Value}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: {summary.Tensors.Count} tensors, {summary.Parameters} parameters, {summary.Bytes} bytes ({dtypes})"));
    }

    internal static void WriteJson(TextWriter output, CheckpointSummary summary)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            json.WriteStartObject();
            json.WriteString("path", summary.Path);
            json.WriteStartArray("files");
            summary.Files.ToList().ForEach(json.WriteStringValue);
            json.WriteEndArray();
            json.WriteStartObject("metadata");
            foreach (var (key, value) in summary.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
            json.WriteStartArray("tensors");
            foreach (var t in summary.Tensors)
            {
                json.WriteStartObject();
                json.WriteString("name", t.Name);
                json.WriteString("dtype", t.DTypeCode);
                json.WriteStartArray("shape");
                t.Shape.ToList().ForEach(json.WriteNumberValue);
                json.WriteEndArray();
                json.WriteNumber("params", t.Parameters);
                json.WriteNumber("bytes", t.Bytes);
                WriteStat(json, "min", t.Min);
                WriteStat(json, "max", t.Max);
                WriteStat(json, "mean", t.Mean);
                WriteStat(json, "std", t.Std);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("total");
            json.WriteNumber("tensors", summary.Tensors.Count);
            json.WriteNumber("parameters", summary.Parameters);
            json.WriteNumber("bytes", summary.Bytes);
            json.WriteStartObject("dtypes");
            foreach (var (code, count) in summary.DTypeCounts)
            {
                json.WriteNumber(code, count);
            }
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>JSON has no NaN or infinity: those statistics are written as null.</summary>
    private static void WriteStat(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Number(double value) =>
        double.IsNaN(value) ? "nan" : value.ToString("G6", CultureInfo.InvariantCulture);
}
