using System.Globalization;
using FlagExport.Formats;

namespace FlagExport.Templates;

/// <summary>
/// The <c>Filename</c> option compiled: the name of each exported file, from <c>{{ .Hostname}}</c>,
/// <c>{{ .Timestamp}}</c>, <c>{{ .Format}}</c>, <c>{{ .UUID}}</c> and <c>{{ .Sequence}}</c>.
/// </summary>
/// <remarks>
/// <para>The result is one file name, not a path: the template's literal text may not contain <c>/</c>, <c>\</c> or
/// control characters, and may not name <c>.</c> or <c>..</c>, so that an option cannot write outside the output folder
/// or into folders that do not exist. (go-feature-flag joins the name to the folder, so a <c>/</c> there makes
/// subfolders; ours is an error at configuration time. S3 key prefixes, which may contain <c>/</c>, are the separate
/// <c>S3Path</c> option, see <see cref="PartitionTemplate"/>.)</para>
/// <para>Immutable and safe to share across threads. <see cref="Render(string, long, ExportFormat)"/> draws the
/// per-process <see cref="NextSequence">sequence number</see> and a new UUID itself.</para>
/// </remarks>
internal sealed class FilenameTemplate
{
    /// <summary>The name of the option, used in error messages.</summary>
    public const string DefaultOptionName = "Filename";

    /// <summary>go-feature-flag's default file name.</summary>
    public const string DefaultText = "flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}";

    private static long s_sequence;

    private FilenameTemplate(CompiledTemplate template)
    {
        Template = template;
        UsesUuid = template.Uses((int)FilenameField.UUID);
        UsesSequence = template.Uses((int)FilenameField.Sequence);
    }

    /// <summary>The default template, <see cref="DefaultText"/>.</summary>
    public static FilenameTemplate Default { get; } =
        new(TemplateParser.Parse(DefaultText, TemplateFieldSets.Filename, DefaultOptionName));

    /// <summary>The compiled template.</summary>
    public CompiledTemplate Template { get; }

    /// <summary><see langword="true"/> when the template contains <c>{{ .UUID}}</c>.</summary>
    public bool UsesUuid { get; }

    /// <summary><see langword="true"/> when the template contains <c>{{ .Sequence}}</c>.</summary>
    public bool UsesSequence { get; }

    /// <summary>Parses the <c>Filename</c> option; <see langword="null"/> or empty gives <see cref="Default"/>, as in go-feature-flag.</summary>
    /// <exception cref="ArgumentException">The template is invalid or names a path rather than a file.</exception>
    public static FilenameTemplate Parse(string? text, string optionName = DefaultOptionName)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Default;
        }

        CompiledTemplate template = TemplateParser.Parse(text, TemplateFieldSets.Filename, optionName);

        // Check what is written (trim markers may have removed white space), then point at it in the text as written.
        int bad = template.Segments.Any(segment => segment.IsLiteral && segment.Text!.Any(IsForbidden))
            ? IndexOfForbiddenLiteralChar(text)
            : -1;
        if (bad >= 0)
        {
            (int line, int column) = TemplateParser.LineAndColumn(text, bad);
            string shown = char.IsControl(text[bad]) ? $"U+{(int)text[bad]:X4}" : $"'{text[bad]}'";
            throw new ArgumentException(
                $"Invalid {optionName} at line {line}, column {column}: a file name cannot contain {shown}; it is one name inside the output folder, not a path.",
                optionName);
        }

        if (template.Segments is [{ IsLiteral: true, Text: "." or ".." }])
        {
            throw new ArgumentException($"Invalid {optionName}: '{text}' is not a file name.", optionName);
        }

        return new FilenameTemplate(template);
    }

    /// <summary>The index of the first <c>/</c>, <c>\</c> or control character outside actions, or -1.</summary>
    /// <remarks>The text parsed, so every <c>{{</c> has a <c>}}</c> after it and no <c>}</c> in between.</remarks>
    private static int IndexOfForbiddenLiteralChar(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '{' && i + 1 < text.Length && text[i + 1] == '{')
            {
                i = text.IndexOf("}}", i + 2, StringComparison.Ordinal) + 1;
            }
            else if (IsForbidden(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsForbidden(char c) => c is '/' or '\\' || char.IsControl(c);

    /// <summary>
    /// The most UTF-8 bytes a name rendered on <paramref name="hostname"/> can have: every field at its longest
    /// (a Unix time of 11 digits, <c>parquet</c>, a UUID, a 19-digit sequence number). A destination with a limit on
    /// names compares it at configuration time instead of refusing a name at the first flush.
    /// </summary>
    public int LongestRenderedBytes(string hostname)
    {
        ArgumentNullException.ThrowIfNull(hostname);
        int total = 0;
        foreach (TemplateSegment segment in Template.Segments)
        {
            total += segment.IsLiteral
                ? segment.Utf8!.Length
                : (FilenameField)segment.FieldId switch
                {
                    FilenameField.Hostname => System.Text.Encoding.UTF8.GetByteCount(hostname),
                    FilenameField.Timestamp => 11,
                    FilenameField.Format => 7,
                    FilenameField.UUID => 36,
                    FilenameField.Sequence => 19,
                    _ => throw new System.Diagnostics.UnreachableException($"Field {segment.FieldId} is not a file name field."),
                };
        }

        return total;
    }

    /// <summary>The next value of the per-process counter behind <c>{{ .Sequence}}</c>: 1 for the first call, then 2, 3…</summary>
    public static long NextSequence() => Interlocked.Increment(ref s_sequence);

    /// <summary>Renders the name of a new file, drawing <see cref="NextSequence"/> and a new UUID.</summary>
    /// <param name="hostname">The machine name, for example <see cref="Environment.MachineName"/>.</param>
    /// <param name="timestamp">Unix seconds of the flush.</param>
    /// <param name="format">The file's format, written lower case.</param>
    public string Render(string hostname, long timestamp, ExportFormat format) =>
        Render(hostname, timestamp, format, UsesUuid ? Guid.NewGuid() : Guid.Empty, NextSequence());

    /// <summary>Renders a file name from the given values.</summary>
    /// <exception cref="ArgumentException">The result is not a single file name, for example because
    /// <paramref name="hostname"/> contains a <c>/</c>.</exception>
    public string Render(string hostname, long timestamp, ExportFormat format, Guid uuid, long sequence)
    {
        ArgumentNullException.ThrowIfNull(hostname);
        string?[] values = new string?[TemplateFieldSets.Filename.Names.Count];
        values[(int)FilenameField.Hostname] = hostname;
        values[(int)FilenameField.Timestamp] = timestamp.ToString(CultureInfo.InvariantCulture);
        values[(int)FilenameField.Format] = format.ToFileExtension();
        values[(int)FilenameField.UUID] = uuid.ToString("D");
        values[(int)FilenameField.Sequence] = sequence.ToString(CultureInfo.InvariantCulture);
        string name = Template.Render(values);
        if (name.Length == 0 || name is "." or ".." || name.AsSpan().IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            throw new ArgumentException($"{Template.OptionName} '{Template.Text}' gave '{name}', which is not a file name.", nameof(hostname));
        }

        return name;
    }
}
