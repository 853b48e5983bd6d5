using System.Globalization;
using System.Text.Json;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// OTLP/JSON request bodies for tests: the same requests as <see cref="OtlpRequests"/> writes in protobuf, written by the
/// OTLP specification's JSON Protobuf Encoding with <see cref="Utf8JsonWriter"/> (lowerCamelCase names, 64-bit integers as
/// decimal strings, ids as hex, enums as integers, bytes as base64, NaN and infinities as strings), independently of
/// the collector's reader.
/// </summary>
internal static class OtlpJsonRequests
{
    /// <summary>An ExportLogsServiceRequest with one resource (service.name when given) and one scope.</summary>
    public static byte[] Logs(string? serviceName, params OtlpLogRecord[] records) => Request("resourceLogs", serviceName, "scopeLogs", w =>
    {
        w.WriteStartObject("scope");
        w.WriteString("name", "test-scope");
        w.WriteEndObject();
        w.WriteStartArray("logRecords");
        foreach (OtlpLogRecord record in records)
        {
            w.WriteStartObject();
            w.WriteString("timeUnixNano", record.TimeUnixNano.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("severityNumber", 9);
            w.WritePropertyName("body");
            AnyValue(w, "evaluated a flag");
            Attributes(w, record.Attributes);
            w.WriteString("observedTimeUnixNano", record.ObservedTimeUnixNano.ToString(CultureInfo.InvariantCulture));
            if (record.EventName is not null)
            {
                w.WriteString("eventName", record.EventName);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    /// <summary>An ExportTraceServiceRequest with one resource and one scope; one span per array of events.</summary>
    public static byte[] Traces(string? serviceName, params OtlpSpanEvent[][] spans) => Request("resourceSpans", serviceName, "scopeSpans", w =>
    {
        w.WriteStartArray("spans");
        foreach (OtlpSpanEvent[] events in spans)
        {
            w.WriteStartObject();
            w.WriteString("traceId", Convert.ToHexStringLower(OtlpRequests.TraceId));
            w.WriteString("spanId", Convert.ToHexStringLower(OtlpRequests.SpanId));
            w.WriteString("name", "evaluate");
            w.WriteString("startTimeUnixNano", OtlpRequests.SpanStartUnixNano.ToString(CultureInfo.InvariantCulture));
            w.WriteString("endTimeUnixNano", OtlpRequests.SpanEndUnixNano.ToString(CultureInfo.InvariantCulture));
            w.WriteStartArray("events");
            foreach (OtlpSpanEvent spanEvent in events)
            {
                w.WriteStartObject();
                w.WriteString("timeUnixNano", spanEvent.TimeUnixNano.ToString(CultureInfo.InvariantCulture));
                w.WriteString("name", spanEvent.Name);
                Attributes(w, spanEvent.Attributes);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    private static byte[] Request(string resources, string? serviceName, string scopes, Action<Utf8JsonWriter> writeScope)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray(resources);
            w.WriteStartObject();
            w.WriteStartObject("resource");
            KeyValuePair<string, object?>[] attributes = serviceName is null
                ? [new("host.name", "test-host")]
                : [new("service.name", serviceName), new("host.name", "test-host")];
            Attributes(w, attributes);
            w.WriteEndObject();
            w.WriteStartArray(scopes);
            w.WriteStartObject();
            writeScope(w);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void Attributes(Utf8JsonWriter w, IEnumerable<KeyValuePair<string, object?>> attributes)
    {
        w.WriteStartArray("attributes");
        foreach (KeyValuePair<string, object?> attribute in attributes)
        {
            KeyValue(w, attribute);
        }

        w.WriteEndArray();
    }

    private static void KeyValue(Utf8JsonWriter w, KeyValuePair<string, object?> attribute)
    {
        w.WriteStartObject();
        w.WriteString("key", attribute.Key);
        w.WritePropertyName("value");
        AnyValue(w, attribute.Value);
        w.WriteEndObject();
    }

    private static void AnyValue(Utf8JsonWriter w, object? value)
    {
        w.WriteStartObject();
        switch (value)
        {
            case null:
                break;
            case string text:
                w.WriteString("stringValue", text);
                break;
            case bool flag:
                w.WriteBoolean("boolValue", flag);
                break;
            case int number:
                w.WriteString("intValue", number.ToString(CultureInfo.InvariantCulture));
                break;
            case long number:
                w.WriteString("intValue", number.ToString(CultureInfo.InvariantCulture));
                break;
            case double number when double.IsNaN(number):
                w.WriteString("doubleValue", "NaN");
                break;
            case double number when double.IsInfinity(number):
                w.WriteString("doubleValue", number > 0 ? "Infinity" : "-Infinity");
                break;
            case double number:
                w.WriteNumber("doubleValue", number);
                break;
            case byte[] bytes:
                w.WriteBase64String("bytesValue", bytes);
                break;
            case object?[] items:
                w.WriteStartObject("arrayValue");
                w.WriteStartArray("values");
                foreach (object? item in items)
                {
                    AnyValue(w, item);
                }

                w.WriteEndArray();
                w.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, object?>> properties:
                w.WriteStartObject("kvlistValue");
                w.WriteStartArray("values");
                foreach (KeyValuePair<string, object?> property in properties)
                {
                    KeyValue(w, property);
                }

                w.WriteEndArray();
                w.WriteEndObject();
                break;
            default:
                throw new ArgumentException($"No AnyValue for {value.GetType()}.", nameof(value));
        }

        w.WriteEndObject();
    }
}
