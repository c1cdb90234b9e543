using Akka.Configuration;
using Akka.Configuration.Hocon;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Configuration;

namespace EvolverActors.Host.Config;

/// <summary>
/// The edge where HOCON text becomes a <see cref="Settings"/> tree: parsed once, with one-line errors for text
/// that is not HOCON (including unbalanced braces, which Akka's parser would otherwise accept and fill with defaults).
/// </summary>
internal static class HoconSettings
{
    public static Settings LoadFile(string path, string what = "config")
    {
        if (!File.Exists(path))
        {
            throw new EvolverException($"{path}: no such {what} file");
        }
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses <paramref name="text"/> (from <paramref name="source"/>, for messages) into the root section.</summary>
    public static Settings Parse(string text, string source)
    {
        RequireBalancedBrackets(text, source);
        Akka.Configuration.Config config;
        try
        {
            config = ConfigurationFactory.ParseString(text);
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or ArgumentException or InvalidOperationException or NullReferenceException)
        {
            var message = e.Message.Split('\n')[0].Trim();
            var hint = message.Contains("':'", StringComparison.Ordinal) ? "; quote values that hold ':', e.g. devices = [\"cuda:0\", \"cuda:1\"]" : "";
            throw new EvolverException($"{source}: not valid HOCON ({message}{hint})");
        }
        return config.Root is { } root && root.IsObject()
            ? Convert(root.GetObject(), source, "")
            : Settings.Empty(source, "");
    }

    private static Settings Convert(HoconObject hocon, string source, string path)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in hocon.Items)
        {
            var full = path.Length == 0 ? key : $"{path}.{key}";
            if (ConvertValue(value, source, full) is { } converted)
            {
                values[key] = converted;
            }
        }
        return new Settings(source, path, values);
    }

    private static object? ConvertValue(HoconValue value, string source, string path)
    {
        if (value.IsObject())
        {
            return Convert(value.GetObject(), source, path);
        }
        if (value.IsArray())
        {
            return value.GetArray().Select(item => ConvertValue(item, source, path) ?? "").ToList();
        }
        return value.IsEmpty ? null : value.GetString();
    }

    /// <summary>Braces and brackets must pair up outside strings and comments, and there are no substitutions.</summary>
    private static void RequireBalancedBrackets(string text, string source)
    {
        var open = new Stack<(char Bracket, int Line)>();
        var line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
            }
            else if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n')
                {
                    i++;
                }
            }
            else if (c == '"')
            {
                var triple = i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"';
                var end = triple ? text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal) : ClosingQuote(text, i + 1);
                if (end < 0)
                {
                    throw new EvolverException($"{source}: line {line}: a string is never closed");
                }
                line += text.AsSpan(i, end - i).Count('\n');
                i = triple ? end + 2 : end;
            }
            else if (c == '$' && i + 1 < text.Length && text[i + 1] == '{')
            {
                // Akka's HOCON parser loops forever on an unresolved `${?X}`: refused here, in one line, instead.
                throw new EvolverException($"{source}: line {line}: substitutions (${{...}}) are not supported in evolver configs: write the value "
                    + "(a later line with the same key overrides an earlier one, so a script can append per-node values)");
            }
            else if (c is '{' or '[')
            {
                open.Push((c, line));
            }
            else if (c is '}' or ']')
            {
                var expected = c == '}' ? '{' : '[';
                if (open.Count == 0 || open.Peek().Bracket != expected)
                {
                    throw new EvolverException($"{source}: line {line}: '{c}' has no matching '{expected}'");
                }
                open.Pop();
            }
        }
        if (open.Count > 0)
        {
            var (bracket, at) = open.Peek();
            throw new EvolverException($"{source}: line {at}: '{bracket}' is never closed");
        }
    }

    private static int ClosingQuote(string text, int from)
    {
        for (var i = from; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == '"')
            {
                return i;
            }
            else if (text[i] == '\n')
            {
                return -1;
            }
        }
        return -1;
    }
}
