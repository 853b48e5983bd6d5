using System.Collections.Immutable;
using System.Text;

namespace FlagExport.Templates;

/// <summary>
/// A template parsed once into segments (literal UTF-8 text and field ids) that renderers walk without parsing again.
/// </summary>
/// <remarks>Immutable and safe to share across threads. Create one with <see cref="TemplateParser.Parse"/>.</remarks>
internal sealed class CompiledTemplate
{
    internal CompiledTemplate(string text, string optionName, TemplateFieldSet fields, ImmutableArray<TemplateSegment> segments)
    {
        Text = text;
        OptionName = optionName;
        Fields = fields;
        Segments = segments;
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    /// <summary>The option the template came from, for messages.</summary>
    public string OptionName { get; }

    /// <summary>The field set the template was checked against; segment field ids index it.</summary>
    public TemplateFieldSet Fields { get; }

    /// <summary>Literal text and fields in output order; adjacent literals are merged and empty ones dropped.</summary>
    public ImmutableArray<TemplateSegment> Segments { get; }

    /// <summary><see langword="true"/> when some segment references the field <paramref name="fieldId"/>.</summary>
    public bool Uses(int fieldId)
    {
        foreach (TemplateSegment segment in Segments)
        {
            if (segment.FieldId == fieldId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Renders the template to a string, taking each field's text from <paramref name="fieldValues"/> indexed by field id.
    /// </summary>
    /// <remarks>For once-per-file templates (file names, S3 paths); per-event encoders walk <see cref="Segments"/> instead.</remarks>
    public string Render(ReadOnlySpan<string?> fieldValues)
    {
        if (fieldValues.Length < Fields.Names.Count)
        {
            throw new ArgumentException($"Expected {Fields.Names.Count} field values, got {fieldValues.Length}.", nameof(fieldValues));
        }

        var builder = new StringBuilder();
        foreach (TemplateSegment segment in Segments)
        {
            builder.Append(segment.IsLiteral ? segment.Text : fieldValues[segment.FieldId]);
        }

        return builder.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
