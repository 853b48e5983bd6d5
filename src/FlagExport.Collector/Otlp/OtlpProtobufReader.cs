using System.Globalization;
using System.Runtime.InteropServices;
using FlagExport.Json;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Reads an <c>ExportLogsServiceRequest</c> or <c>ExportTraceServiceRequest</c> in protobuf straight into feature events.
/// </summary>
/// <remarks>
/// <para>The messages and field numbers are those of the OTLP specification (opentelemetry-proto, <c>common/v1</c>,
/// <c>resource/v1</c>, <c>logs/v1</c>, <c>trace/v1</c>), for the fields this reader needs; every other field is skipped,
/// as protobuf readers skip unknown fields.</para>
/// <para>A record is looked at twice: once for its name (and times), then, only when it is a flag evaluation, for its
/// attributes; records of other kinds cost a scan and allocate nothing. A resource is also read twice, its
/// <c>service.name</c> first, because protobuf does not order fields.</para>
/// </remarks>
internal static class OtlpProtobufReader
{
    /// <summary>How deep array and key-value list values may nest; deeper is refused, as the JSON path refuses it.</summary>
    internal const int MaxDepth = 64;

    /// <summary>Reads the whole request; throws <see cref="OtlpFormatException"/> when it is not a valid message.</summary>
    public static OtlpExport Read(OtlpSignal signal, ReadOnlySpan<byte> body, OtlpEventBuilder builder)
    {
        var request = new ProtobufReader(body);
        int resource = 0;
        while (request.TryReadTag(out int field, out int wireType))
        {
            // ExportLogsServiceRequest.resource_logs = 1, ExportTraceServiceRequest.resource_spans = 1.
            if (field == 1)
            {
                ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, signal == OtlpSignal.Logs ? "resource_logs" : "resource_spans");
                ReadResource(signal, request.ReadLengthDelimited(), builder, resource++);
            }
            else
            {
                request.Skip(wireType);
            }
        }

        return builder.Export;
    }

    /// <summary>ResourceLogs / ResourceSpans: resource = 1, scope_logs / scope_spans = 2.</summary>
    private static void ReadResource(OtlpSignal signal, ReadOnlySpan<byte> message, OtlpEventBuilder builder, int resource)
    {
        string? serviceName = null;
        var first = new ProtobufReader(message);
        while (first.TryReadTag(out int field, out int wireType))
        {
            if (field == 1)
            {
                ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "resource");
                serviceName = ServiceName(first.ReadLengthDelimited(), builder) ?? serviceName;
            }
            else
            {
                first.Skip(wireType);
            }
        }

        builder.Resource(serviceName);
        var scopes = new ProtobufReader(message);
        int scope = 0;
        while (scopes.TryReadTag(out int field, out int wireType))
        {
            if (field == 2)
            {
                ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, signal == OtlpSignal.Logs ? "scope_logs" : "scope_spans");
                ReadScope(signal, scopes.ReadLengthDelimited(), builder, resource, scope++);
            }
            else
            {
                scopes.Skip(wireType);
            }
        }
    }

    /// <summary>Resource: attributes = 1; the string value of <c>service.name</c>, or null.</summary>
    private static string? ServiceName(ReadOnlySpan<byte> message, OtlpEventBuilder builder)
    {
        string? serviceName = null;
        var resource = new ProtobufReader(message);
        while (resource.TryReadTag(out int field, out int wireType))
        {
            if (field == 1)
            {
                ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "resource.attributes");
                if (TryReadStringAttribute(resource.ReadLengthDelimited(), out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
                    && key.SequenceEqual("service.name"u8))
                {
                    serviceName = builder.String(value);
                }
            }
            else
            {
                resource.Skip(wireType);
            }
        }

        return serviceName;
    }

    /// <summary>ScopeLogs: log_records = 2; ScopeSpans: spans = 2.</summary>
    private static void ReadScope(OtlpSignal signal, ReadOnlySpan<byte> message, OtlpEventBuilder builder, int resource, int scope)
    {
        var reader = new ProtobufReader(message);
        int item = 0;
        while (reader.TryReadTag(out int field, out int wireType))
        {
            if (field != 2)
            {
                reader.Skip(wireType);
                continue;
            }

            ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, signal == OtlpSignal.Logs ? "log_records" : "spans");
            ReadOnlySpan<byte> record = reader.ReadLengthDelimited();
            bool rejected = signal == OtlpSignal.Logs ? ReadLogRecord(record, builder) : ReadSpan(record, builder);
            if (rejected)
            {
                OtlpExport export = builder.Export;
                export.RejectedItems++;
                export.FirstRejection ??= signal == OtlpSignal.Logs
                    ? string.Create(CultureInfo.InvariantCulture, $"resource_logs[{resource}].scope_logs[{scope}].log_records[{item}] is a feature_flag.evaluation without feature_flag.key")
                    : string.Create(CultureInfo.InvariantCulture, $"resource_spans[{resource}].scope_spans[{scope}].spans[{item}] has a feature_flag.evaluation event without feature_flag.key");
            }

            item++;
        }
    }

    /// <summary>
    /// LogRecord: time_unix_nano = 1 (fixed64), attributes = 6, observed_time_unix_nano = 11 (fixed64), event_name = 12.
    /// A flag evaluation by its event name, or by the <c>event.name</c> attribute that SDKs set before the field existed.
    /// </summary>
    /// <returns>Whether it was a flag evaluation without a key.</returns>
    private static bool ReadLogRecord(ReadOnlySpan<byte> record, OtlpEventBuilder builder)
    {
        long time = 0, observed = 0;
        bool isEvaluation = false;
        var scan = new ProtobufReader(record);
        while (scan.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1:
                    ProtobufReader.Expect(wireType, ProtobufReader.Fixed64, "log_record.time_unix_nano");
                    time = (long)scan.ReadFixed64();
                    break;
                case 11:
                    ProtobufReader.Expect(wireType, ProtobufReader.Fixed64, "log_record.observed_time_unix_nano");
                    observed = (long)scan.ReadFixed64();
                    break;
                case 12:
                    ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "log_record.event_name");
                    isEvaluation |= IsEvaluationName(scan.ReadLengthDelimited(), legacyToo: false);
                    break;
                case 6:
                    ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "log_record.attributes");
                    ReadOnlySpan<byte> attribute = scan.ReadLengthDelimited();
                    isEvaluation |= !KeyIsNot(attribute, "event.name"u8)
                        && TryReadStringAttribute(attribute, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
                        && key.SequenceEqual("event.name"u8) && IsEvaluationName(value, legacyToo: false);
                    break;
                default:
                    scan.Skip(wireType);
                    break;
            }
        }

        if (isEvaluation)
        {
            ReadAttributes(record, 6, builder);
        }

        return builder.EndRecord(time, observed, isEvaluation, record.Length) == OtlpRecordOutcome.Rejected;
    }

    /// <summary>Span: events = 11; the span's own fields are not read.</summary>
    /// <returns>Whether one of its events was a flag evaluation without a key.</returns>
    private static bool ReadSpan(ReadOnlySpan<byte> span, OtlpEventBuilder builder)
    {
        bool rejected = false;
        var reader = new ProtobufReader(span);
        while (reader.TryReadTag(out int field, out int wireType))
        {
            if (field == 11)
            {
                ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "span.events");
                rejected |= ReadSpanEvent(reader.ReadLengthDelimited(), builder);
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return rejected;
    }

    /// <summary>Span.Event: time_unix_nano = 1 (fixed64), name = 2, attributes = 3.</summary>
    private static bool ReadSpanEvent(ReadOnlySpan<byte> spanEvent, OtlpEventBuilder builder)
    {
        long time = 0;
        bool isEvaluation = false;
        var scan = new ProtobufReader(spanEvent);
        while (scan.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1:
                    ProtobufReader.Expect(wireType, ProtobufReader.Fixed64, "span.event.time_unix_nano");
                    time = (long)scan.ReadFixed64();
                    break;
                case 2:
                    ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "span.event.name");
                    isEvaluation = IsEvaluationName(scan.ReadLengthDelimited(), legacyToo: true);
                    break;
                default:
                    scan.Skip(wireType);
                    break;
            }
        }

        if (isEvaluation)
        {
            ReadAttributes(spanEvent, 3, builder);
        }

        return builder.EndRecord(time, 0, isEvaluation, spanEvent.Length) == OtlpRecordOutcome.Rejected;
    }

    /// <summary>Feeds the repeated KeyValue field <paramref name="attributesField"/> of a record to the builder.</summary>
    private static void ReadAttributes(ReadOnlySpan<byte> record, int attributesField, OtlpEventBuilder builder)
    {
        builder.BeginRecord();
        int position = 0;
        var reader = new ProtobufReader(record);
        while (reader.TryReadTag(out int field, out int wireType))
        {
            if (field != attributesField)
            {
                reader.Skip(wireType);
                continue;
            }

            // KeyValue: key = 1, value = 2.
            var keyValue = new ProtobufReader(reader.ReadLengthDelimited());
            string? name = null;
            bool unique = false;
            FlagValue value = default;
            while (keyValue.TryReadTag(out int kvField, out int kvWireType))
            {
                if (kvField == 1)
                {
                    ProtobufReader.Expect(kvWireType, ProtobufReader.LengthDelimited, "attributes.key");
                    ReadOnlySpan<byte> key = keyValue.ReadLengthDelimited();
                    name = builder.AttributeName(key, position++);
                    unique = key.SequenceEqual(ContextIdName);
                }
                else if (kvField == 2)
                {
                    ProtobufReader.Expect(kvWireType, ProtobufReader.LengthDelimited, "attributes.value");
                    value = ReadAnyValue(keyValue.ReadLengthDelimited(), builder, 0, unique);
                }
                else
                {
                    keyValue.Skip(kvWireType);
                }
            }

            if (!string.IsNullOrEmpty(name))
            {
                builder.Attribute(name, value);
            }
        }
    }

    /// <summary>
    /// AnyValue (a oneof, the last field given wins): string_value = 1, bool_value = 2, int_value = 3, double_value = 4
    /// (fixed64), array_value = 5, kvlist_value = 6, bytes_value = 7 (kept as base64 text, as OTLP/JSON writes bytes).
    /// An empty AnyValue is null.
    /// </summary>
    /// <param name="message">The AnyValue's bytes.</param>
    /// <param name="builder">The request's builder, for strings.</param>
    /// <param name="depth">How deep in arrays and key-value lists the value is.</param>
    /// <param name="unique">Whether a string value is seldom seen twice (a context id, when the key came first).</param>
    private static FlagValue ReadAnyValue(ReadOnlySpan<byte> message, OtlpEventBuilder builder, int depth, bool unique = false)
    {
        if (depth > MaxDepth)
        {
            throw new OtlpFormatException($"The body is not a valid OTLP protobuf message: attribute values nest deeper than {MaxDepth} levels.");
        }

        FlagValue value = default;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out int field, out int wireType))
        {
            switch (field)
            {
                case 1:
                    ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "AnyValue.string_value");
                    value = FlagValue.FromString(unique ? OtlpEventBuilder.UniqueString(reader.ReadLengthDelimited()) : builder.String(reader.ReadLengthDelimited()));
                    break;
                case 2:
                    ProtobufReader.Expect(wireType, ProtobufReader.Varint, "AnyValue.bool_value");
                    value = FlagValue.FromBoolean(reader.ReadVarint() != 0);
                    break;
                case 3:
                    ProtobufReader.Expect(wireType, ProtobufReader.Varint, "AnyValue.int_value");
                    value = FlagValue.FromInteger((long)reader.ReadVarint());
                    break;
                case 4:
                    ProtobufReader.Expect(wireType, ProtobufReader.Fixed64, "AnyValue.double_value");
                    value = OtlpValues.FromDouble(BitConverter.UInt64BitsToDouble(reader.ReadFixed64()));
                    break;
                case 5:
                    ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "AnyValue.array_value");
                    value = ReadArray(reader.ReadLengthDelimited(), builder, depth + 1);
                    break;
                case 6:
                    ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "AnyValue.kvlist_value");
                    value = ReadKeyValueList(reader.ReadLengthDelimited(), builder, depth + 1);
                    break;
                case 7:
                    ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "AnyValue.bytes_value");
                    value = FlagValue.FromString(Convert.ToBase64String(reader.ReadLengthDelimited()));
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return value;
    }

    /// <summary>ArrayValue: values = 1 (repeated AnyValue).</summary>
    private static FlagValue ReadArray(ReadOnlySpan<byte> message, OtlpEventBuilder builder, int depth)
    {
        // Nested arrays share the builder's scratch list, each level past the items it found there; a malformed body
        // leaves items behind, but then the request, and its builder, are dropped.
        List<FlagValue> items = builder.ItemScratch;
        int start = items.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out int field, out int wireType))
        {
            if (field == 1)
            {
                ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "ArrayValue.values");
                items.Add(ReadAnyValue(reader.ReadLengthDelimited(), builder, depth));
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        FlagValue array = FlagValue.FromOwnedArray(CollectionsMarshal.AsSpan(items)[start..].ToArray());
        items.RemoveRange(start, items.Count - start);
        return array;
    }

    /// <summary>KeyValueList: values = 1 (repeated KeyValue: key = 1, value = 2).</summary>
    private static FlagValue ReadKeyValueList(ReadOnlySpan<byte> message, OtlpEventBuilder builder, int depth)
    {
        // As in ReadArray: the builder's scratch list, this level past the properties it found there.
        List<KeyValuePair<string, FlagValue>> properties = builder.PropertyScratch;
        int start = properties.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out int field, out int wireType))
        {
            if (field != 1)
            {
                reader.Skip(wireType);
                continue;
            }

            ProtobufReader.Expect(wireType, ProtobufReader.LengthDelimited, "KeyValueList.values");
            var keyValue = new ProtobufReader(reader.ReadLengthDelimited());
            string name = "";
            FlagValue value = default;
            while (keyValue.TryReadTag(out int kvField, out int kvWireType))
            {
                if (kvField == 1)
                {
                    ProtobufReader.Expect(kvWireType, ProtobufReader.LengthDelimited, "KeyValue.key");
                    name = builder.String(keyValue.ReadLengthDelimited());
                }
                else if (kvField == 2)
                {
                    ProtobufReader.Expect(kvWireType, ProtobufReader.LengthDelimited, "KeyValue.value");
                    value = ReadAnyValue(keyValue.ReadLengthDelimited(), builder, depth);
                }
                else
                {
                    keyValue.Skip(kvWireType);
                }
            }

            properties.Add(new(name, value));
        }

        FlagObject collected = FlagValueReader.Collect(CollectionsMarshal.AsSpan(properties)[start..]);
        properties.RemoveRange(start, properties.Count - start);
        return FlagValue.FromObject(collected);
    }

    /// <summary>
    /// Whether a KeyValue that starts with its key, as serializers write it (field 1 first, a one-byte length), has
    /// another key than <paramref name="name"/>: a look at its first bytes, so that the scan of a record for its
    /// <c>event.name</c> does not read every attribute. False when the KeyValue starts otherwise (then read it whole).
    /// </summary>
    private static bool KeyIsNot(ReadOnlySpan<byte> keyValue, ReadOnlySpan<byte> name) =>
        keyValue.Length >= 2 && keyValue[0] == 0x0A && keyValue[1] < 0x80
        && (keyValue[1] != name.Length || !keyValue[2..].StartsWith(name));

    /// <summary>A KeyValue whose value is a string: its key and value bytes; false for any other value.</summary>
    private static bool TryReadStringAttribute(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = default;
        value = default;
        bool isString = false;
        var keyValue = new ProtobufReader(message);
        while (keyValue.TryReadTag(out int field, out int wireType))
        {
            if (field == 1 && wireType == ProtobufReader.LengthDelimited)
            {
                key = keyValue.ReadLengthDelimited();
            }
            else if (field == 2 && wireType == ProtobufReader.LengthDelimited)
            {
                var anyValue = new ProtobufReader(keyValue.ReadLengthDelimited());
                isString = false;
                while (anyValue.TryReadTag(out int valueField, out int valueWireType))
                {
                    if (valueField == 1 && valueWireType == ProtobufReader.LengthDelimited)
                    {
                        value = anyValue.ReadLengthDelimited();
                        isString = true;
                    }
                    else
                    {
                        anyValue.Skip(valueWireType);
                        isString = false;
                    }
                }
            }
            else
            {
                keyValue.Skip(wireType);
            }
        }

        return isString;
    }

    private static ReadOnlySpan<byte> ContextIdName => "feature_flag.context.id"u8;

    private static bool IsEvaluationName(ReadOnlySpan<byte> name, bool legacyToo) =>
        name.SequenceEqual("feature_flag.evaluation"u8) || (legacyToo && name.SequenceEqual("feature_flag"u8));
}
