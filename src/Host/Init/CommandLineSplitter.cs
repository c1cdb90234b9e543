using System.Text;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Init;

/// <summary>
/// Splits one command-line string into a program and its arguments the way a POSIX shell splits words (single
/// quotes literal, double quotes with backslash escapes, backslash outside quotes), without running a shell:
/// no variables, globs or pipes.
/// </summary>
internal static class CommandLineSplitter
{
    public static IReadOnlyList<string> Split(string commandLine, string what)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < commandLine.Length; i++)
        {
            var c = commandLine[i];
            switch (c)
            {
                case ' ' or '\t' or '\n':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }
                    break;
                case '\'':
                    var end = commandLine.IndexOf('\'', i + 1);
                    if (end < 0)
                    {
                        throw new EvolverException($"{what}: a single quote is never closed in '{commandLine}'");
                    }
                    word.Append(commandLine, i + 1, end - i - 1);
                    inWord = true;
                    i = end;
                    break;
                case '"':
                    i = DoubleQuoted(commandLine, i + 1, word, what);
                    inWord = true;
                    break;
                case '\\' when i + 1 < commandLine.Length:
                    word.Append(commandLine[++i]);
                    inWord = true;
                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words.Count > 0 ? words : throw new EvolverException($"{what}: the command is empty");
    }

    /// <summary>Appends a double-quoted run starting after the opening quote; returns the index of the closing quote.</summary>
    private static int DoubleQuoted(string text, int start, StringBuilder word, string what)
    {
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                return i;
            }
            if (c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`')
            {
                word.Append(text[++i]);
            }
            else
            {
                word.Append(c);
            }
        }
        throw new EvolverException($"{what}: a double quote is never closed in '{text}'");
    }
}
