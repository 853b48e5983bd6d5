using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;

namespace FlagExport.Templates;

/// <summary>
/// Parses the subset of Go's text/template that exporter users write: literal text and field references
/// <c>{{ .Name }}</c>, compiled once into a <see cref="CompiledTemplate"/>.
/// </summary>
/// <remarks>
/// <para>Accepted, as Go accepts them: any white space (newlines included) inside the braces; the trim markers
/// <c>{{- </c> and <c> -}}</c>, which remove the white space (space, tab, CR, LF) before or after the action; a
/// <c>}}</c> in literal text, which is literal. Field names are case-sensitive, as Go's struct fields are.</para>
/// <para>Text is taken literally, as Go's text/template takes it: the two characters <c>\n</c> stay a backslash and an
/// n. A newline must be a real newline in the option's value; JSON files, YAML double-quoted strings and C# string
/// literals already turn <c>\n</c> into one, as Go's YAML and JSON loaders do for go-feature-flag.</para>
/// <para>Everything else Go allows in an action (<c>if</c>, <c>range</c>, <c>end</c>, pipelines, function calls,
/// variables, constants, comments, nested fields) and unknown fields are errors at configuration time: an
/// <see cref="ArgumentException"/> whose parameter name is the option and whose message gives the 1-based line and
/// column and what is wrong. A template is never replaced by a default behind the user's back.</para>
/// </remarks>
internal static class TemplateParser
{
    private const string SpaceChars = " \t\r\n";

    private static readonly FrozenSet<string> Keywords = FrozenSet.Create(
        StringComparer.Ordinal, "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue");

    private static readonly FrozenSet<string> Constants = FrozenSet.Create(StringComparer.Ordinal, "nil", "true", "false");

    /// <summary>Parses <paramref name="text"/> and checks every field against <paramref name="fields"/>.</summary>
    /// <param name="text">The template.</param>
    /// <param name="fields">The fields the template may reference.</param>
    /// <param name="optionName">The option the template comes from, named in errors, for example <c>CsvTemplate</c>.</param>
    /// <exception cref="ArgumentException">The template is not valid; the message says where and why.</exception>
    public static CompiledTemplate Parse(string text, TemplateFieldSet fields, string optionName)
    {
        ArgumentNullException.ThrowIfNull(text, optionName);
        ArgumentNullException.ThrowIfNull(fields);

        var segments = ImmutableArray.CreateBuilder<TemplateSegment>();
        var literal = new StringBuilder();
        bool trimNextLiteral = false;
        int position = 0;
        while (true)
        {
            int open = text.IndexOf("{{", position, StringComparison.Ordinal);
            ReadOnlySpan<char> piece = text.AsSpan(position, (open < 0 ? text.Length : open) - position);
            literal.Append(trimNextLiteral ? piece.TrimStart(SpaceChars) : piece);
            trimNextLiteral = false;
            if (open < 0)
            {
                break;
            }

            if (text.IndexOf("}}", open + 2, StringComparison.Ordinal) < 0)
            {
                throw Error(text, open, optionName, "'{{' is never closed by '}}'");
            }

            int cursor = open + 2;
            if (cursor + 1 < text.Length && text[cursor] == '-' && IsSpace(text[cursor + 1]))
            {
                TrimEnd(literal);
                cursor += 2;
            }

            (int fieldId, position, trimNextLiteral) = ParseAction(text, open, cursor, fields, optionName);
            if (literal.Length > 0)
            {
                segments.Add(TemplateSegment.Literal(literal.ToString()));
                literal.Clear();
            }

            segments.Add(TemplateSegment.Field(fieldId));
        }

        if (literal.Length > 0)
        {
            segments.Add(TemplateSegment.Literal(literal.ToString()));
        }

        return new CompiledTemplate(text, optionName, fields, segments.ToImmutable());
    }

    /// <summary>Parses one action from <paramref name="cursor"/> (just inside <c>{{</c> or <c>{{- </c>) to its <c>}}</c>.</summary>
    private static (int FieldId, int End, bool TrimAfter) ParseAction(
        string text, int open, int cursor, TemplateFieldSet fields, string optionName)
    {
        int start = SkipSpaces(text, cursor);
        if (IsClose(text, start) || (IsSpace(text[start - 1]) && IsTrimClose(text, start)))
        {
            throw Error(text, open, optionName, $"empty action '{{{{ }}}}'; {Supported(fields)}");
        }

        if (text.AsSpan(start).StartsWith("/*", StringComparison.Ordinal))
        {
            throw Error(text, start, optionName, $"comments '{{{{/* */}}}}' are not supported; {Supported(fields)}");
        }

        if (text[start] != '.')
        {
            throw Error(text, start, optionName, $"{DescribeUnsupported(text, start)}; {Supported(fields)}");
        }

        int nameEnd = ScanIdentifier(text, start + 1);
        string name = text[(start + 1)..nameEnd];
        if (name.Length == 0)
        {
            string reason = nameEnd >= text.Length || IsSpace(text[nameEnd]) || text[nameEnd] == '}'
                ? "'{{ . }}' (the whole value) is not supported; name a field"
                : $"unexpected {Quote(Token(text, start))}";
            throw Error(text, start, optionName, $"{reason}; {Supported(fields)}");
        }

        if (nameEnd + 1 < text.Length && text[nameEnd] == '.' && ScanIdentifier(text, nameEnd + 1) > nameEnd + 1)
        {
            throw Error(text, start, optionName, $"nested field {Quote(Token(text, start))} is not supported; {Supported(fields)}");
        }

        if (!fields.TryGetId(name, out int fieldId))
        {
            string? near = fields.FindCaseInsensitive(name);
            string hint = near is null ? "" : $" (did you mean '.{near}'? field names are case-sensitive)";
            throw Error(
                text,
                start,
                optionName,
                $"unknown field '.{name}'{hint}; valid fields for {fields.Description} are {string.Join(", ", fields.Names)}");
        }

        int after = SkipSpaces(text, nameEnd);
        if (IsClose(text, after))
        {
            return (fieldId, after + 2, false);
        }

        if (after > nameEnd && IsTrimClose(text, after))
        {
            return (fieldId, after + 3, true);
        }

        string unexpected = text[after] == '|'
            ? "pipelines ('|') are not supported"
            : $"unexpected {Quote(Token(text, after))} after '.{name}'; an action holds exactly one field reference";
        throw Error(text, after, optionName, $"{unexpected}; {Supported(fields)}");
    }

    /// <summary>Says what Go construct starts at <paramref name="index"/>, none of which is supported.</summary>
    private static string DescribeUnsupported(string text, int index)
    {
        char first = text[index];
        string token = Token(text, index);
        if (first == '$')
        {
            return $"variables ({Quote(token)}) are not supported";
        }

        if (first == '|')
        {
            return "pipelines ('|') are not supported";
        }

        if (first == '(')
        {
            return "parenthesized pipelines are not supported";
        }

        if (first is '"' or '`' or '\'' or '-' or '+' || char.IsAsciiDigit(first))
        {
            return $"constants ({Quote(token)}) are not supported";
        }

        if (char.IsLetter(first) || first == '_')
        {
            string word = text[index..ScanIdentifier(text, index)];
            if (Keywords.Contains(word))
            {
                return $"'{{{{ {word} }}}}' actions are not supported";
            }

            return Constants.Contains(word)
                ? $"constants ({Quote(word)}) are not supported"
                : $"function calls ({Quote(word)}) are not supported";
        }

        return $"unexpected {Quote(token)}";
    }

    private static string Supported(TemplateFieldSet fields) =>
        $"only field references such as '{{{{ .{fields.Names[0]} }}}}' are supported";

    private static bool IsClose(string text, int index) =>
        index + 1 < text.Length && text[index] == '}' && text[index + 1] == '}';

    /// <summary>A right trim marker <c>-}}</c>; only valid after white space, which the caller checks.</summary>
    private static bool IsTrimClose(string text, int index) =>
        index + 2 < text.Length && text[index] == '-' && text[index + 1] == '}' && text[index + 2] == '}';

    private static bool IsSpace(char c) => SpaceChars.Contains(c, StringComparison.Ordinal);

    private static int SkipSpaces(string text, int index)
    {
        while (index < text.Length && IsSpace(text[index]))
        {
            index++;
        }

        return index;
    }

    private static int ScanIdentifier(string text, int index)
    {
        while (index < text.Length && (char.IsLetterOrDigit(text[index]) || text[index] == '_'))
        {
            index++;
        }

        return index;
    }

    private static void TrimEnd(StringBuilder builder)
    {
        while (builder.Length > 0 && IsSpace(builder[^1]))
        {
            builder.Length--;
        }
    }

    /// <summary>The run of text at <paramref name="index"/> up to white space or <c>}}</c>, shortened for messages.</summary>
    private static string Token(string text, int index)
    {
        int end = index + 1;
        while (end < text.Length && !IsSpace(text[end]) && !text.AsSpan(end).StartsWith("}}", StringComparison.Ordinal))
        {
            end++;
        }

        return end - index > 30 ? string.Concat(text.AsSpan(index, 30), "…") : text[index..end];
    }

    private static string Quote(string token) => token.Contains('\'', StringComparison.Ordinal) ? $"\"{token}\"" : $"'{token}'";

    private static ArgumentException Error(string text, int index, string optionName, string reason)
    {
        (int line, int column) = LineAndColumn(text, index);
        return new ArgumentException($"Invalid {optionName} at line {line}, column {column}: {reason}.", optionName);
    }

    /// <summary>1-based line and column of <paramref name="index"/>; columns count characters (code points), not bytes.</summary>
    internal static (int Line, int Column) LineAndColumn(string text, int index)
    {
        int line = 1, column = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else if (!char.IsLowSurrogate(text[i]))
            {
                column++;
            }
        }

        return (line, column);
    }
}
