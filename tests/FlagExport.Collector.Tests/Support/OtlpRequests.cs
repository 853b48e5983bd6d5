using Google.Protobuf;

namespace FlagExport.Collector.Tests.Support;

/// <summary>A log record of a test request: its event name, time and attributes (values as <see cref="OtlpRequests"/> encodes them).</summary>
internal sealed record OtlpLogRecord(string? EventName, long TimeUnixNano, params KeyValuePair<string, object?>[] Attributes)
{
    public long ObservedTimeUnixNano { get; init; }
}

/// <summary>A span event of a test request.</summary>
internal sealed record OtlpSpanEvent(string Name, long TimeUnixNano, params KeyValuePair<string, object?>[] Attributes);

/// <summary>
/// OTLP protobuf request bodies for tests, written with Google.Protobuf's <see cref="CodedOutputStream"/> from the field
/// numbers of the OTLP specification, independently of the collector's reader. Attribute values: string, bool, int, long,
/// double, byte[] (bytes_value), object?[] (array_value), IEnumerable of KeyValuePair&lt;string, object?&gt; (kvlist_value),
/// null (an empty AnyValue).
/// </summary>
internal static class OtlpRequests
{
    /// <summary>An ExportLogsServiceRequest with one resource (service.name when given) and one scope.</summary>
    public static byte[] Logs(string? serviceName, params OtlpLogRecord[] records) =>
        Message(o => Field(o, 1, Message(resourceLogs =>
        {
            Field(resourceLogs, 1, Resource(serviceName));
            Field(resourceLogs, 2, Message(scopeLogs =>
            {
                Field(scopeLogs, 1, Message(scope => String(scope, 1, "test-scope")));
                foreach (OtlpLogRecord record in records)
                {
                    Field(scopeLogs, 2, LogRecord(record));
                }
            }));
        })));

    /// <summary>The trace_id of every span: bytes 1 to 16 (a valid id is not all zeros).</summary>
    public static readonly byte[] TraceId = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];

    /// <summary>The span_id of every span: bytes 1 to 8.</summary>
    public static readonly byte[] SpanId = [.. Enumerable.Range(1, 8).Select(i => (byte)i)];

    /// <summary>The start of every span (Unix nanoseconds): the second of the test events' times begins.</summary>
    public const long SpanStartUnixNano = 1_733_230_547_000_000_000;

    /// <summary>The end of every span (Unix nanoseconds): a second after its start.</summary>
    public const long SpanEndUnixNano = 1_733_230_548_000_000_000;

    /// <summary>
    /// An ExportTraceServiceRequest with one resource and one scope; one span per array of events, each with
    /// <see cref="TraceId"/>, <see cref="SpanId"/>, and its start and end times.
    /// </summary>
    public static byte[] Traces(string? serviceName, params OtlpSpanEvent[][] spans) =>
        Message(o => Field(o, 1, Message(resourceSpans =>
        {
            Field(resourceSpans, 1, Resource(serviceName));
            Field(resourceSpans, 2, Message(scopeSpans =>
            {
                foreach (OtlpSpanEvent[] events in spans)
                {
                    Field(scopeSpans, 2, Message(span =>
                    {
                        Bytes(span, 1, TraceId);
                        Bytes(span, 2, SpanId);
                        String(span, 5, "evaluate");
                        Fixed64(span, 7, SpanStartUnixNano);
                        Fixed64(span, 8, SpanEndUnixNano);
                        foreach (OtlpSpanEvent spanEvent in events)
                        {
                            Field(span, 11, Message(e =>
                            {
                                Fixed64(e, 1, spanEvent.TimeUnixNano);
                                String(e, 2, spanEvent.Name);
                                foreach (KeyValuePair<string, object?> attribute in spanEvent.Attributes)
                                {
                                    Field(e, 3, KeyValue(attribute));
                                }
                            }));
                        }
                    }));
                }
            }));
        })));

    /// <summary>An attribute for a record.</summary>
    public static KeyValuePair<string, object?> Attribute(string key, object? value) => new(key, value);

    private static byte[] Resource(string? serviceName) => Message(resource =>
    {
        if (serviceName is not null)
        {
            Field(resource, 1, KeyValue(new("service.name", serviceName)));
        }

        Field(resource, 1, KeyValue(new("host.name", "test-host")));
    });

    private static byte[] LogRecord(OtlpLogRecord record) => Message(o =>
    {
        Fixed64(o, 1, record.TimeUnixNano);
        o.WriteTag(2, WireFormat.WireType.Varint);
        o.WriteEnum(9);
        Field(o, 5, AnyValue("evaluated a flag"));
        foreach (KeyValuePair<string, object?> attribute in record.Attributes)
        {
            Field(o, 6, KeyValue(attribute));
        }

        Fixed64(o, 11, record.ObservedTimeUnixNano);
        if (record.EventName is not null)
        {
            String(o, 12, record.EventName);
        }
    });

    private static byte[] KeyValue(KeyValuePair<string, object?> attribute) => Message(o =>
    {
        String(o, 1, attribute.Key);
        Field(o, 2, AnyValue(attribute.Value));
    });

    private static byte[] AnyValue(object? value) => Message(o =>
    {
        switch (value)
        {
            case null:
                break;
            case string text:
                String(o, 1, text);
                break;
            case bool flag:
                o.WriteTag(2, WireFormat.WireType.Varint);
                o.WriteBool(flag);
                break;
            case int number:
                o.WriteTag(3, WireFormat.WireType.Varint);
                o.WriteInt64(number);
                break;
            case long number:
                o.WriteTag(3, WireFormat.WireType.Varint);
                o.WriteInt64(number);
                break;
            case double number:
                o.WriteTag(4, WireFormat.WireType.Fixed64);
                o.WriteDouble(number);
                break;
            case byte[] bytes:
                Bytes(o, 7, bytes);
                break;
            case object?[] items:
                Field(o, 5, Message(array =>
                {
                    foreach (object? item in items)
                    {
                        Field(array, 1, AnyValue(item));
                    }
                }));
                break;
            case IEnumerable<KeyValuePair<string, object?>> properties:
                Field(o, 6, Message(list =>
                {
                    foreach (KeyValuePair<string, object?> property in properties)
                    {
                        Field(list, 1, KeyValue(property));
                    }
                }));
                break;
            default:
                throw new ArgumentException($"No AnyValue for {value.GetType()}.", nameof(value));
        }
    });

    private static void Field(CodedOutputStream output, int field, byte[] message) => Bytes(output, field, message);

    private static void Bytes(CodedOutputStream output, int field, byte[] bytes)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }

    private static void String(CodedOutputStream output, int field, string text)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(text);
    }

    private static void Fixed64(CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Fixed64);
        output.WriteFixed64((ulong)value);
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return buffer.ToArray();
    }
}
