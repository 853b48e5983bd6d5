namespace FlagExport.Templates;

/// <summary>One piece of a compiled template: literal text, or a reference to a field by id.</summary>
internal readonly struct TemplateSegment
{
    private TemplateSegment(int fieldId, string? text, byte[]? utf8)
    {
        FieldId = fieldId;
        Text = text;
        Utf8 = utf8;
    }

    /// <summary>The id of the field in the template's <see cref="TemplateFieldSet"/>, or -1 for literal text.</summary>
    public int FieldId { get; }

    /// <summary>The literal text, or <see langword="null"/> for a field.</summary>
    public string? Text { get; }

    /// <summary>The literal text encoded once as UTF-8, for encoders; <see langword="null"/> for a field.</summary>
    public byte[]? Utf8 { get; }

    /// <summary><see langword="true"/> for literal text.</summary>
    public bool IsLiteral => FieldId < 0;

    public static TemplateSegment Literal(string text) => new(-1, text, System.Text.Encoding.UTF8.GetBytes(text));

    public static TemplateSegment Field(int fieldId) => new(fieldId, null, null);
}
