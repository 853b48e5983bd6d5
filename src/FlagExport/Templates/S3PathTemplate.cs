namespace FlagExport.Templates;

/// <summary>
/// The <c>S3Path</c> option compiled: a key prefix that may contain <c>/</c> and the date fields
/// <c>{{ .Year}}</c>, <c>{{ .Month}}</c>, <c>{{ .Day}}</c> and <c>{{ .Hour}}</c>, zero-padded, in UTC.
/// </summary>
/// <remarks>The date is the creation date of an event of the batch, usually the first. Immutable and thread-safe.</remarks>
internal sealed class S3PathTemplate
{
    /// <summary>The name of the option, used in error messages.</summary>
    public const string DefaultOptionName = "S3Path";

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private S3PathTemplate(CompiledTemplate template) => Template = template;

    /// <summary>The compiled template.</summary>
    public CompiledTemplate Template { get; }

    /// <summary>Parses the <c>S3Path</c> option; <see langword="null"/> is the same as empty, no prefix.</summary>
    /// <exception cref="ArgumentException">The template is invalid.</exception>
    public static S3PathTemplate Parse(string? text, string optionName = DefaultOptionName) =>
        new(TemplateParser.Parse(text ?? "", TemplateFieldSets.S3Path, optionName));

    /// <summary>Renders the prefix for events created at <paramref name="creationDate"/> (Unix seconds).</summary>
    /// <remarks>Dates outside years 1 to 9999 are clamped to that range rather than failing the batch.</remarks>
    public string Render(long creationDate)
    {
        DateTime utc = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(creationDate, MinUnixSeconds, MaxUnixSeconds)).UtcDateTime;
        string?[] values = new string?[TemplateFieldSets.S3Path.Names.Count];
        values[(int)S3PathField.Year] = utc.ToString("yyyy", System.Globalization.CultureInfo.InvariantCulture);
        values[(int)S3PathField.Month] = utc.ToString("MM", System.Globalization.CultureInfo.InvariantCulture);
        values[(int)S3PathField.Day] = utc.ToString("dd", System.Globalization.CultureInfo.InvariantCulture);
        values[(int)S3PathField.Hour] = utc.ToString("HH", System.Globalization.CultureInfo.InvariantCulture);
        return Template.Render(values);
    }
}
