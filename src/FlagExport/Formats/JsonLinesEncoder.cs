using FlagExport.Buffers;

namespace FlagExport.Formats;

/// <summary>
/// Writes one compact JSON object per event, each followed by <c>\n</c>, byte for byte as go-feature-flag does.
/// </summary>
/// <remarks>
/// Field order and omission follow go-feature-flag's struct tags: <c>contextKind</c> and <c>metadata</c> are
/// <c>omitempty</c>, <c>version</c> is always present. Property names are precomputed UTF-8 literals and values go
/// through <see cref="GoJson"/>, so encoding allocates nothing per event.
/// </remarks>
internal sealed class JsonLinesEncoder : IBatchEncoder
{
    public static readonly JsonLinesEncoder Instance = new();

    public ExportFormat Format => ExportFormat.Json;

    public ValueTask EncodeAsync(IReadOnlyList<ExportableEvent> events, PooledBufferWriter output, CancellationToken cancellationToken)
    {
        for (int i = 0; i < events.Count; i++)
        {
            WriteLine(output, events[i]);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Writes one event and its trailing newline.</summary>
    public static void WriteLine(PooledBufferWriter output, ExportableEvent exportable)
    {
        switch (exportable)
        {
            case FeatureEvent feature:
                WriteFeature(output, feature);
                break;
            case TrackingEvent tracking:
                WriteTracking(output, tracking);
                break;
            default:
                throw new ArgumentException($"Unsupported event type {exportable.GetType()}.", nameof(exportable));
        }

        output.Write("}\n"u8);
    }

    private static void WriteCommon(PooledBufferWriter output, ExportableEvent e)
    {
        output.Write("{\"kind\":"u8);
        GoJson.WriteString(output, e.Kind);
        if (!string.IsNullOrEmpty(e.ContextKind))
        {
            output.Write(",\"contextKind\":"u8);
            GoJson.WriteString(output, e.ContextKind);
        }

        output.Write(",\"userKey\":"u8);
        GoJson.WriteString(output, e.UserKey);
        output.Write(",\"creationDate\":"u8);
        GoJson.WriteInteger(output, e.CreationDate);
        output.Write(",\"key\":"u8);
        GoJson.WriteString(output, e.Key);
    }

    private static void WriteFeature(PooledBufferWriter output, FeatureEvent e)
    {
        WriteCommon(output, e);
        output.Write(",\"variation\":"u8);
        GoJson.WriteString(output, e.Variation);
        output.Write(",\"value\":"u8);
        GoJson.WriteValue(output, e.Value);
        output.Write(e.Default ? ",\"default\":true"u8 : ",\"default\":false"u8);
        output.Write(",\"version\":"u8);
        GoJson.WriteString(output, e.Version);
        output.Write(",\"source\":"u8);
        GoJson.WriteString(output, e.Source);
        if (e.MetadataObject is { Count: > 0 } metadata)
        {
            output.Write(",\"metadata\":"u8);
            GoJson.WriteObject(output, metadata);
        }
    }

    private static void WriteTracking(PooledBufferWriter output, TrackingEvent e)
    {
        WriteCommon(output, e);
        output.Write(",\"evaluationContext\":"u8);
        WriteObjectOrNull(output, e.EvaluationContextObject);
        output.Write(",\"trackingEventDetails\":"u8);
        WriteObjectOrNull(output, e.TrackingEventDetailsObject);
    }

    private static void WriteObjectOrNull(PooledBufferWriter output, FlagObject? map)
    {
        if (map is null)
        {
            output.Write("null"u8); // Go writes a nil map as null
        }
        else
        {
            GoJson.WriteObject(output, map);
        }
    }
}
