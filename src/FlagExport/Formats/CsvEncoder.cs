using FlagExport.Buffers;
using FlagExport.Templates;

namespace FlagExport.Formats;

/// <summary>
/// Writes each event as one rendering of the <c>CsvTemplate</c>, in UTF-8, straight into the batch buffer.
/// </summary>
/// <remarks>
/// <para>An encoder serves one <see cref="EventType"/> and its template is checked against that type's fields when the
/// encoder is created: a feature template naming <c>.Variation</c> cannot configure a tracking exporter. With no
/// template, each type has its default (<see cref="DefaultFeatureTemplate"/>, <see cref="DefaultTrackingTemplate"/>).</para>
/// <para>Fields print as <see cref="Utf8ValueFormatter"/> describes; <c>FormattedDate</c> is the creation date in RFC 3339,
/// UTC. Nothing is quoted or escaped, as in go-feature-flag: a value holding the separator or a newline is written
/// as it is. The template decides the line ending; the defaults end with a newline. As in Go, the template is
/// literal: the two characters <c>\n</c> stay a backslash and an n (see <see cref="TemplateParser"/>).
/// Encoding allocates nothing per event. Stateless: safe to share across threads.</para>
/// </remarks>
internal sealed class CsvEncoder : IBatchEncoder
{
    /// <summary>The option the template comes from, named in error messages.</summary>
    public const string DefaultOptionName = "CsvTemplate";

    /// <summary>go-feature-flag's default CSV template for feature events; it ends with a newline.</summary>
    public const string DefaultFeatureTemplate =
        "{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}\n";

    /// <summary>The default CSV template for tracking events: their own fields, in the JSON output's order.</summary>
    public const string DefaultTrackingTemplate =
        "{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};{{ .EvaluationContext}};{{ .TrackingEventDetails}}\n";

    private const int CancellationCheckInterval = 1024;

    private readonly TemplateSegment[] _segments;

    /// <summary>Creates an encoder for events of <paramref name="eventType"/> from a template compiled against its CSV fields.</summary>
    /// <exception cref="ArgumentException"><paramref name="template"/> was compiled against another field set.</exception>
    public CsvEncoder(CompiledTemplate template, EventType eventType)
    {
        ArgumentNullException.ThrowIfNull(template);
        TemplateFieldSet expected = TemplateFieldSets.ForCsv(eventType);
        if (template.Fields != expected)
        {
            throw new ArgumentException(
                $"The template was compiled for {template.Fields.Description}, not {expected.Description}.", nameof(template));
        }

        Template = template;
        EventType = eventType;
        _segments = [.. template.Segments];
    }

    /// <inheritdoc/>
    public ExportFormat Format => ExportFormat.Csv;

    /// <summary>The type of events encoded.</summary>
    public EventType EventType { get; }

    /// <summary>The template each event is rendered with.</summary>
    public CompiledTemplate Template { get; }

    /// <summary>
    /// Creates an encoder for <paramref name="eventType"/> from the <c>CsvTemplate</c> option; <see langword="null"/>
    /// or empty selects the default template of that type, as in go-feature-flag.
    /// </summary>
    /// <exception cref="ArgumentException">The template is invalid or names a field events of this type lack; the
    /// message gives the option, the line and column, and the valid fields.</exception>
    public static CsvEncoder Create(string? template, EventType eventType, string optionName = DefaultOptionName)
    {
        string text = string.IsNullOrEmpty(template)
            ? eventType == EventType.Tracking ? DefaultTrackingTemplate : DefaultFeatureTemplate
            : template;
        return new CsvEncoder(TemplateParser.Parse(text, TemplateFieldSets.ForCsv(eventType), optionName), eventType);
    }

    /// <inheritdoc/>
    public ValueTask EncodeAsync(IReadOnlyList<ExportableEvent> events, PooledBufferWriter output, CancellationToken cancellationToken)
    {
        try
        {
            Encode(events, output, cancellationToken);
            return default;
        }
        catch (Exception exception)
        {
            return ValueTask.FromException(exception);
        }
    }

    /// <summary>Appends one rendering of the template per event to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">An event is not of <see cref="EventType"/>.</exception>
    public void Encode(IReadOnlyList<ExportableEvent> events, PooledBufferWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(output);
        var cursor = new Utf8Cursor(output);

        // Batches are arrays: read them as a span, without an interface call per event.
        ReadOnlySpan<ExportableEvent> span = events is ExportableEvent[] array ? new ReadOnlySpan<ExportableEvent>(array) : default;
        for (int i = 0; i < events.Count; i++)
        {
            if (i % CancellationCheckInterval == 0 && cancellationToken.IsCancellationRequested)
            {
                cursor.Commit();
                cancellationToken.ThrowIfCancellationRequested();
            }

            switch (span.IsEmpty ? events[i] : span[i])
            {
                case FeatureEvent feature when EventType == EventType.Feature:
                    WriteFeature(feature, ref cursor);
                    break;
                case TrackingEvent tracking when EventType == EventType.Tracking:
                    WriteTracking(tracking, ref cursor);
                    break;
                case var other:
                    cursor.Commit();
                    throw new ArgumentException(
                        $"The CSV encoder for {Template.Fields.Description} got a {other?.GetType().Name ?? "null"} at index {i}.", nameof(events));
            }
        }

        cursor.Commit();
    }

    private void WriteFeature(FeatureEvent e, ref Utf8Cursor output)
    {
        foreach (TemplateSegment segment in _segments)
        {
            if (segment.Utf8 is { } literal)
            {
                output.Write(literal);
                continue;
            }

            switch ((FeatureCsvField)segment.FieldId)
            {
                case FeatureCsvField.Kind: Utf8ValueFormatter.WriteString(ref output, e.Kind); break;
                case FeatureCsvField.ContextKind: Utf8ValueFormatter.WriteString(ref output, e.ContextKind); break;
                case FeatureCsvField.UserKey: Utf8ValueFormatter.WriteString(ref output, e.UserKey); break;
                case FeatureCsvField.CreationDate: Utf8ValueFormatter.WriteInt64(ref output, e.CreationDate); break;
                case FeatureCsvField.Key: Utf8ValueFormatter.WriteString(ref output, e.Key); break;
                case FeatureCsvField.Variation: Utf8ValueFormatter.WriteString(ref output, e.Variation); break;
                case FeatureCsvField.Value: Utf8ValueFormatter.WriteValue(ref output, e.Value); break;
                case FeatureCsvField.Default: Utf8ValueFormatter.WriteBoolean(ref output, e.Default); break;
                case FeatureCsvField.Version: Utf8ValueFormatter.WriteString(ref output, e.Version); break;
                case FeatureCsvField.Source: Utf8ValueFormatter.WriteString(ref output, e.Source); break;
                case FeatureCsvField.Metadata: Utf8ValueFormatter.WriteObject(ref output, e.MetadataObject); break;
                case FeatureCsvField.FormattedDate: Utf8ValueFormatter.WriteRfc3339(ref output, e.CreationDate); break;
                default: throw new InvalidOperationException($"Unknown feature field id {segment.FieldId}.");
            }
        }
    }

    private void WriteTracking(TrackingEvent e, ref Utf8Cursor output)
    {
        foreach (TemplateSegment segment in _segments)
        {
            if (segment.Utf8 is { } literal)
            {
                output.Write(literal);
                continue;
            }

            switch ((TrackingCsvField)segment.FieldId)
            {
                case TrackingCsvField.Kind: Utf8ValueFormatter.WriteString(ref output, e.Kind); break;
                case TrackingCsvField.ContextKind: Utf8ValueFormatter.WriteString(ref output, e.ContextKind); break;
                case TrackingCsvField.UserKey: Utf8ValueFormatter.WriteString(ref output, e.UserKey); break;
                case TrackingCsvField.CreationDate: Utf8ValueFormatter.WriteInt64(ref output, e.CreationDate); break;
                case TrackingCsvField.Key: Utf8ValueFormatter.WriteString(ref output, e.Key); break;
                case TrackingCsvField.EvaluationContext: Utf8ValueFormatter.WriteObject(ref output, e.EvaluationContextObject); break;
                case TrackingCsvField.TrackingEventDetails: Utf8ValueFormatter.WriteObject(ref output, e.TrackingEventDetailsObject); break;
                case TrackingCsvField.FormattedDate: Utf8ValueFormatter.WriteRfc3339(ref output, e.CreationDate); break;
                default: throw new InvalidOperationException($"Unknown tracking field id {segment.FieldId}.");
            }
        }
    }
}
