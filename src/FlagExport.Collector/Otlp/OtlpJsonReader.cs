using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using FlagExport.Json;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Reads an OTLP/JSON <c>ExportLogsServiceRequest</c> or <c>ExportTraceServiceRequest</c> with a
/// <see cref="Utf8JsonReader"/> over the whole body, straight into feature events through an <see cref="OtlpEventBuilder"/>,
/// with the semantics of <see cref="OtlpProtobufReader"/>.
/// </summary>
/// <remarks>
/// <para>OTLP/JSON is the proto3 JSON mapping with OTLP's deviations: field names in lowerCamelCase (the original
/// snake_case names are accepted too, as proto3 JSON parsers accept them), unknown fields ignored, enums as integers,
/// trace and span ids as hex. Only the fields that make events are read: resource attributes (for <c>service.name</c>),
/// log records' times, event name and attributes, span events' time, name and attributes. Every other field is skipped
/// whatever its value, ids included, so that a sender's quirk in a field that makes no event does not refuse its flag
/// evaluations. A <c>null</c> field is an absent one, as proto3 JSON says.</para>
/// <para>64-bit integers may be JSON numbers or decimal strings; doubles may be numbers, numeric strings, or
/// <c>"NaN"</c>, <c>"Infinity"</c> and <c>"-Infinity"</c>, which a JSON value cannot hold and which are kept as those
/// strings (<see cref="OtlpValues.FromDouble"/>). <c>bytesValue</c> is kept as its base64 text, as sent. A field of a read
/// message that has the wrong JSON type, values nested deeper than <see cref="OtlpProtobufReader.MaxDepth"/>, or text
/// that is not JSON throws an <see cref="OtlpFormatException"/> that names the field's path, and the whole request is
/// refused.</para>
/// <para>JSON does not order fields, so the reader goes back where the protobuf reader would read on: a record is read
/// once for its name and times (its attributes only checked, so a record of another kind allocates nothing), and a flag
/// evaluation again from its start for its attributes; a resource's <c>service.name</c> is given to the builder before
/// its records, and when the sender wrote the records first, the rest of the object is read ahead for the resource.
/// Going back is copying the reader's state, which is a struct.</para>
/// </remarks>
internal static class OtlpJsonReader
{
    /// <summary>The event name of a flag evaluation, as a log record's <c>eventName</c> or a span event's <c>name</c>.</summary>
    private static ReadOnlySpan<byte> EvaluationEventName => "feature_flag.evaluation"u8;

    /// <summary>The span event name of flag evaluations that older OpenFeature hooks emit.</summary>
    private static ReadOnlySpan<byte> LegacyEvaluationEventName => "feature_flag"u8;

    /// <summary>
    /// Deep enough for values nested as deep as allowed (a key-value list takes four JSON levels) under the request's own
    /// twelve levels, so that the value depth, not the reader's, is what a deep body meets first.
    /// </summary>
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 16 + (4 * (OtlpProtobufReader.MaxDepth + 1)) };

    /// <summary>Reads <paramref name="body"/>, a whole OTLP/JSON request of <paramref name="signal"/>.</summary>
    /// <exception cref="OtlpFormatException">The body is not a well-formed request; the message names the field.</exception>
    public static OtlpExport Read(OtlpSignal signal, ReadOnlySpan<byte> body, OtlpEventBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var path = new OtlpJsonPath();
        var parser = new Parser(body, builder, path);
        try
        {
            parser.ReadRequest(signal);
            return builder.Export;
        }
        catch (JsonException e)
        {
            throw new OtlpFormatException($"{path}: the body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>The reader's state over one body; a ref struct because it holds the <see cref="Utf8JsonReader"/>.</summary>
    private ref struct Parser(ReadOnlySpan<byte> body, OtlpEventBuilder builder, OtlpJsonPath path)
    {
        private readonly OtlpEventBuilder _builder = builder;
        private readonly OtlpJsonPath _path = path;
        private Utf8JsonReader _reader = new(body, ReaderOptions);

        public void ReadRequest(OtlpSignal signal)
        {
            if (!_reader.Read())
            {
                throw Format("expected an object, got an empty body");
            }

            if (_reader.TokenType != JsonTokenType.StartObject)
            {
                throw Expected("an object");
            }

            bool logs = signal == OtlpSignal.Logs;
            while (NextProperty())
            {
                if (logs ? IsName("resourceLogs"u8, "resource_logs"u8) : IsName("resourceSpans"u8, "resource_spans"u8))
                {
                    ReadArray(logs ? "resourceLogs" : "resourceSpans", logs ? Item.ResourceLogs : Item.ResourceSpans);
                }
                else
                {
                    SkipValue();
                }
            }

            // The reader throws on anything but whitespace after the root value.
            _ = _reader.Read();
        }

        /// <summary>The elements an array field holds, so that one loop reads every array of the request.</summary>
        private enum Item
        {
            ResourceLogs,
            ResourceSpans,
            ScopeLogs,
            ScopeSpans,
            LogRecord,
            Span,
        }

        /// <summary>Reads the array value of the property just read (absent when null), each element as <paramref name="item"/>.</summary>
        private void ReadArray(string name, Item item)
        {
            _path.Push(name);
            _ = _reader.Read();
            if (StartArray())
            {
                for (int index = 0; NextItem(); index++)
                {
                    _path.At(index);
                    switch (item)
                    {
                        case Item.ResourceLogs: ReadResourceGroup(logs: true); break;
                        case Item.ResourceSpans: ReadResourceGroup(logs: false); break;
                        case Item.ScopeLogs: ReadScopeGroup(logs: true); break;
                        case Item.ScopeSpans: ReadScopeGroup(logs: false); break;
                        case Item.LogRecord: ReadLogRecord(); break;
                        default: ReadSpan(); break;
                    }
                }
            }

            _path.Pop();
        }

        /// <summary>A <c>ResourceLogs</c> or <c>ResourceSpans</c>: its resource first, then its scopes.</summary>
        private void ReadResourceGroup(bool logs)
        {
            if (!ExpectObject())
            {
                return;
            }

            // The builder learns the service name once, before the first scope, wherever the resource is written.
            bool resourceGiven = false;
            while (NextProperty())
            {
                if (IsName("resource"u8))
                {
                    if (resourceGiven)
                    {
                        SkipValue(); // read already, ahead of the scopes
                    }
                    else
                    {
                        _builder.Resource(ReadResource());
                        resourceGiven = true;
                    }
                }
                else if (logs ? IsName("scopeLogs"u8, "scope_logs"u8) : IsName("scopeSpans"u8, "scope_spans"u8))
                {
                    if (!resourceGiven)
                    {
                        _builder.Resource(ReadResourceAhead());
                        resourceGiven = true;
                    }

                    ReadArray(logs ? "scopeLogs" : "scopeSpans", logs ? Item.ScopeLogs : Item.ScopeSpans);
                }
                else
                {
                    SkipValue();
                }
            }
        }

        /// <summary>
        /// On the name of a scopes field met before the resource: the service name of a resource later in the object,
        /// read ahead; the reader is back on the scopes field's name afterwards.
        /// </summary>
        private string? ReadResourceAhead()
        {
            Utf8JsonReader resume = _reader;
            string? serviceName = null;
            try
            {
                SkipValue();
                while (NextProperty())
                {
                    if (IsName("resource"u8))
                    {
                        serviceName = ReadResource();
                        break;
                    }

                    SkipValue();
                }
            }
            catch (JsonException)
            {
                // Malformed text ahead: the pass from the scopes meets it again, and reports it with its path.
            }

            _reader = resume;
            return serviceName;
        }

        /// <summary>On the <c>resource</c> name: reads the resource; returns its <c>service.name</c>, if a string.</summary>
        private string? ReadResource()
        {
            _path.Push("resource");
            _ = _reader.Read();
            string? serviceName = null;
            if (ExpectObject())
            {
                while (NextProperty())
                {
                    if (IsName("attributes"u8))
                    {
                        _ = ReadAttributes(AttributeUse.FindServiceName, out serviceName);
                    }
                    else
                    {
                        SkipValue();
                    }
                }
            }

            _path.Pop();
            return serviceName;
        }

        /// <summary>A <c>ScopeLogs</c> or <c>ScopeSpans</c>: its records or spans; the scope itself makes nothing.</summary>
        private void ReadScopeGroup(bool logs)
        {
            if (!ExpectObject())
            {
                return;
            }

            while (NextProperty())
            {
                if (logs && IsName("logRecords"u8, "log_records"u8))
                {
                    ReadArray("logRecords", Item.LogRecord);
                }
                else if (!logs && IsName("spans"u8))
                {
                    ReadArray("spans", Item.Span);
                }
                else
                {
                    SkipValue();
                }
            }
        }

        /// <summary>
        /// LogRecord: a flag evaluation by its <c>eventName</c>, or by the <c>event.name</c> attribute that SDKs set before
        /// the field existed. Read twice when it is one, as the protobuf reader does: first for its name and times (its
        /// attributes only checked), then for its attributes; a record of another kind allocates nothing.
        /// </summary>
        private void ReadLogRecord()
        {
            if (!ExpectObject())
            {
                return;
            }

            Utf8JsonReader record = _reader;
            long start = _reader.TokenStartIndex;
            long time = 0, observed = 0;
            bool isEvaluation = false;
            while (NextProperty())
            {
                if (IsName("timeUnixNano"u8, "time_unix_nano"u8))
                {
                    time = ReadTime("timeUnixNano");
                }
                else if (IsName("observedTimeUnixNano"u8, "observed_time_unix_nano"u8))
                {
                    observed = ReadTime("observedTimeUnixNano");
                }
                else if (IsName("eventName"u8, "event_name"u8))
                {
                    isEvaluation |= ReadNameIs("eventName", legacyToo: false);
                }
                else if (IsName("attributes"u8))
                {
                    isEvaluation |= ReadAttributes(AttributeUse.FindEventName, out _);
                }
                else
                {
                    SkipValue();
                }
            }

            _ = EndRecord(record, start, time, observed, isEvaluation, " is a feature_flag.evaluation without feature_flag.key");
        }

        /// <summary>Span: events; the span's own fields are not read.</summary>
        private void ReadSpan()
        {
            if (!ExpectObject())
            {
                return;
            }

            bool rejected = false;
            while (NextProperty())
            {
                if (!IsName("events"u8))
                {
                    SkipValue();
                    continue;
                }

                _path.Push("events");
                _ = _reader.Read();
                if (StartArray())
                {
                    for (int index = 0; NextItem(); index++)
                    {
                        _path.At(index);
                        rejected |= ReadSpanEvent();
                    }
                }

                _path.Pop();
            }

            if (rejected)
            {
                Reject(" has a feature_flag.evaluation event without feature_flag.key");
            }
        }

        /// <summary>Span.Event: time, name (the current or the legacy evaluation name) and attributes; read as a log record is.</summary>
        /// <returns>Whether it was a flag evaluation without a key.</returns>
        private bool ReadSpanEvent()
        {
            if (!ExpectObject())
            {
                return false;
            }

            Utf8JsonReader spanEvent = _reader;
            long start = _reader.TokenStartIndex;
            long time = 0;
            bool isEvaluation = false;
            while (NextProperty())
            {
                if (IsName("timeUnixNano"u8, "time_unix_nano"u8))
                {
                    time = ReadTime("timeUnixNano");
                }
                else if (IsName("name"u8))
                {
                    isEvaluation = ReadNameIs("name", legacyToo: true);
                }
                else if (IsName("attributes"u8))
                {
                    _ = ReadAttributes(AttributeUse.Check, out _);
                }
                else
                {
                    SkipValue();
                }
            }

            return EndRecord(spanEvent, start, time, 0, isEvaluation, rejection: null);
        }

        /// <summary>
        /// On the end of a record read once: for a flag evaluation, reads its attributes again from
        /// <paramref name="record"/> (its start) into the builder; then ends the record, counting a rejected log record
        /// (with <paramref name="rejection"/>) in <c>partial_success</c>; a span event's rejection is its span's.
        /// </summary>
        /// <returns>Whether it was a flag evaluation without a key.</returns>
        private bool EndRecord(Utf8JsonReader record, long start, long time, long observed, bool isEvaluation, string? rejection)
        {
            long bytes = _reader.BytesConsumed - start;
            if (isEvaluation)
            {
                Utf8JsonReader end = _reader;
                _reader = record;
                _builder.BeginRecord();
                while (NextProperty())
                {
                    if (IsName("attributes"u8))
                    {
                        _ = ReadAttributes(AttributeUse.Build, out _);
                    }
                    else
                    {
                        SkipValue();
                    }
                }

                _reader = end;
            }

            bool rejected = _builder.EndRecord(time, observed, isEvaluation, bytes) == OtlpRecordOutcome.Rejected;
            if (rejected && rejection is not null)
            {
                Reject(rejection);
            }

            return rejected;
        }

        /// <summary>Counts the log record or span being read (the path's last element) as rejected in <c>partial_success</c>.</summary>
        private readonly void Reject(string why)
        {
            OtlpExport export = _builder.Export;
            export.RejectedItems++;
            export.FirstRejection ??= _path + why;
        }

        /// <summary>What <see cref="ReadAttributes"/> does with the attributes it reads.</summary>
        private enum AttributeUse
        {
            /// <summary>Checks them; builds nothing.</summary>
            Check,

            /// <summary>Checks them and tells whether <c>event.name</c> names a flag evaluation; builds nothing.</summary>
            FindEventName,

            /// <summary>A resource's: builds only the value of <c>service.name</c>, which it keeps.</summary>
            FindServiceName,

            /// <summary>A flag evaluation's: builds them all and gives them to the builder.</summary>
            Build,
        }

        /// <summary>
        /// Reads the <c>attributes</c> array whose name was just read, as <paramref name="use"/> says. Returns whether an
        /// <c>event.name</c> attribute names a flag evaluation (<see cref="AttributeUse.FindEventName"/>);
        /// <paramref name="serviceName"/> is the string value of the last <c>service.name</c> (<see cref="AttributeUse.FindServiceName"/>).
        /// </summary>
        private bool ReadAttributes(AttributeUse use, out string? serviceName)
        {
            bool found = false;
            serviceName = null;
            _path.Push("attributes");
            _ = _reader.Read();
            if (StartArray())
            {
                for (int index = 0; NextItem(); index++)
                {
                    _path.At(index);
                    if (!ExpectObject())
                    {
                        continue;
                    }

                    string? name = null;
                    FlagValue value = default;
                    bool keyRead = false, isEventName = false, isServiceName = false;
                    while (NextProperty())
                    {
                        if (IsName("key"u8))
                        {
                            _path.Push("key");
                            _ = _reader.Read();
                            ExpectString();
                            keyRead = true;
                            isEventName = use == AttributeUse.FindEventName && IsText("event.name"u8);
                            isServiceName = use == AttributeUse.FindServiceName && IsText("service.name"u8);
                            name = use == AttributeUse.Build ? ReadString() : null;
                            _path.Pop();
                        }
                        else if (IsName("value"u8))
                        {
                            // Otherwise only the value sought is built (and any whose key comes after it, to be sure).
                            bool build = use == AttributeUse.Build
                                || (use != AttributeUse.Check && (!keyRead || isEventName || isServiceName));
                            _path.Push("value");
                            _ = _reader.Read();
                            value = ReadAnyValue(0, build);
                            _path.Pop();
                        }
                        else
                        {
                            SkipValue();
                        }
                    }

                    switch (use)
                    {
                        case AttributeUse.FindEventName:
                            found |= isEventName && value.Kind == FlagValueKind.String && value.AsString() == "feature_flag.evaluation";
                            break;
                        case AttributeUse.FindServiceName when isServiceName && value.Kind == FlagValueKind.String:
                            serviceName = value.AsString();
                            break;
                        case AttributeUse.Build when !string.IsNullOrEmpty(name):
                            _builder.Attribute(name, value);
                            break;
                    }
                }
            }

            _path.Pop();
            return found;
        }

        /// <summary>
        /// Reads the <c>AnyValue</c> whose first token is current, at <paramref name="depth"/> (0 for an attribute's);
        /// with <paramref name="build"/> off it is only checked, nothing is allocated and the result is null. An empty
        /// AnyValue is null; when several of its fields are given, the last wins, as protobuf's oneof does.
        /// </summary>
        private FlagValue ReadAnyValue(int depth, bool build)
        {
            if (!ExpectObject())
            {
                return default;
            }

            if (depth > OtlpProtobufReader.MaxDepth)
            {
                throw Format($"attribute values nest deeper than {OtlpProtobufReader.MaxDepth} levels");
            }

            FlagValue value = default;
            while (NextProperty())
            {
                if (IsName("stringValue"u8, "string_value"u8))
                {
                    _path.Push("stringValue");
                    _ = _reader.Read();
                    value = build ? FlagValue.FromString(ReadString()) : CheckString();
                    _path.Pop();
                }
                else if (IsName("boolValue"u8, "bool_value"u8))
                {
                    _path.Push("boolValue");
                    _ = _reader.Read();
                    value = _reader.TokenType switch
                    {
                        JsonTokenType.True => FlagValue.FromBoolean(true),
                        JsonTokenType.False => FlagValue.FromBoolean(false),
                        JsonTokenType.Null => default,
                        _ => throw Expected("a boolean"),
                    };
                    _path.Pop();
                }
                else if (IsName("intValue"u8, "int_value"u8))
                {
                    _path.Push("intValue");
                    _ = _reader.Read();
                    value = _reader.TokenType == JsonTokenType.Null ? default : FlagValue.FromInteger(ReadInt64());
                    _path.Pop();
                }
                else if (IsName("doubleValue"u8, "double_value"u8))
                {
                    _path.Push("doubleValue");
                    _ = _reader.Read();
                    value = _reader.TokenType == JsonTokenType.Null ? default : ReadDouble();
                    _path.Pop();
                }
                else if (IsName("bytesValue"u8, "bytes_value"u8))
                {
                    _path.Push("bytesValue");
                    _ = _reader.Read();
                    value = build ? FlagValue.FromString(ReadString()) : CheckString();
                    _path.Pop();
                }
                else if (IsName("arrayValue"u8, "array_value"u8))
                {
                    _path.Push("arrayValue");
                    _ = _reader.Read();
                    value = ReadArrayValue(depth, build);
                    _path.Pop();
                }
                else if (IsName("kvlistValue"u8, "kvlist_value"u8))
                {
                    _path.Push("kvlistValue");
                    _ = _reader.Read();
                    value = ReadKeyValueList(depth, build);
                    _path.Pop();
                }
                else
                {
                    SkipValue();
                }
            }

            return value;
        }

        /// <summary>An <c>ArrayValue</c> message: <c>{"values": [AnyValue, ...]}</c>.</summary>
        private FlagValue ReadArrayValue(int depth, bool build)
        {
            if (!ExpectObject())
            {
                return default;
            }

            List<FlagValue>? items = build ? [] : null;
            while (NextProperty())
            {
                if (!IsName("values"u8))
                {
                    SkipValue();
                    continue;
                }

                _path.Push("values");
                _ = _reader.Read();
                if (StartArray())
                {
                    for (int index = 0; NextItem(); index++)
                    {
                        _path.At(index);
                        FlagValue item = ReadAnyValue(depth + 1, build);
                        items?.Add(item);
                    }
                }

                _path.Pop();
            }

            return items is null ? default : FlagValue.FromOwnedArray([.. items]);
        }

        /// <summary>A <c>KeyValueList</c> message: <c>{"values": [{"key": ..., "value": AnyValue}, ...]}</c>.</summary>
        private FlagValue ReadKeyValueList(int depth, bool build)
        {
            if (!ExpectObject())
            {
                return default;
            }

            List<KeyValuePair<string, FlagValue>>? properties = build ? [] : null;
            while (NextProperty())
            {
                if (!IsName("values"u8))
                {
                    SkipValue();
                    continue;
                }

                _path.Push("values");
                _ = _reader.Read();
                if (StartArray())
                {
                    for (int index = 0; NextItem(); index++)
                    {
                        _path.At(index);
                        if (!ExpectObject())
                        {
                            continue;
                        }

                        string key = "";
                        FlagValue value = default;
                        while (NextProperty())
                        {
                            if (IsName("key"u8))
                            {
                                _path.Push("key");
                                _ = _reader.Read();
                                key = build ? ReadString() ?? "" : CheckKey();
                                _path.Pop();
                            }
                            else if (IsName("value"u8))
                            {
                                _path.Push("value");
                                _ = _reader.Read();
                                value = ReadAnyValue(depth + 1, build);
                                _path.Pop();
                            }
                            else
                            {
                                SkipValue();
                            }
                        }

                        properties?.Add(new(key, value));
                    }
                }

                _path.Pop();
            }

            return properties is null ? default : FlagValue.FromObject(properties);
        }

        /// <summary>On the name of a string field: whether its value names a flag evaluation.</summary>
        private bool ReadNameIs(string field, bool legacyToo)
        {
            _path.Push(field);
            _ = _reader.Read();
            bool evaluation = false;
            if (_reader.TokenType == JsonTokenType.String)
            {
                evaluation = JsonText.TextEquals(ref _reader, EvaluationEventName)
                    || (legacyToo && JsonText.TextEquals(ref _reader, LegacyEvaluationEventName));
            }
            else if (_reader.TokenType != JsonTokenType.Null)
            {
                throw Expected("a string");
            }

            _path.Pop();
            return evaluation;
        }

        /// <summary>
        /// The current string token (through the builder, which shares the short ones that recur), or null for JSON null.
        /// </summary>
        private string? ReadString()
        {
            ExpectString();
            if (_reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            // Escapes are rare in OTLP; System.Text.Json unescapes those, with JsonText's lenience for lone surrogates.
            return _reader.ValueIsEscaped ? JsonText.GetString(ref _reader, null) : _builder.String(_reader.ValueSpan);
        }

        /// <summary>Checks that the current token is a string or null.</summary>
        private readonly void ExpectString()
        {
            if (_reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
            {
                throw Expected("a string");
            }
        }

        /// <summary>Checks a string value that is not built: null.</summary>
        private readonly FlagValue CheckString()
        {
            ExpectString();
            return default;
        }

        /// <summary>Checks a key that is not built: empty.</summary>
        private readonly string CheckKey()
        {
            ExpectString();
            return "";
        }

        /// <summary>Whether the current string token is <paramref name="text"/>.</summary>
        private bool IsText(ReadOnlySpan<byte> text) => _reader.TokenType == JsonTokenType.String && JsonText.TextEquals(ref _reader, text);

        /// <summary>On the value of a <c>fixed64</c> time field: nanoseconds since the Unix epoch (0 for null).</summary>
        private long ReadTime(string field)
        {
            _path.Push(field);
            _ = _reader.Read();
            long time = 0;
            if (_reader.TokenType != JsonTokenType.Null)
            {
                // As the protobuf reader casts the fixed64: a time past 2262 is not refused there, so not here either.
                time = unchecked((long)ReadUInt64());
            }

            _path.Pop();
            return time;
        }

        /// <summary>A proto3 JSON <c>uint64</c>/<c>fixed64</c>: a number or a decimal string.</summary>
        private ulong ReadUInt64()
        {
            if (_reader.TokenType == JsonTokenType.Number)
            {
                if (_reader.TryGetUInt64(out ulong number))
                {
                    return number;
                }

                // proto3 JSON also takes integral numbers written with a fraction or an exponent (1.0, 1e9).
                if (_reader.TryGetDouble(out double real) && real >= 0 && real < 18446744073709551616.0 && real == Math.Floor(real))
                {
                    return (ulong)real;
                }

                throw Format($"{RawText()} is not an unsigned 64-bit integer");
            }

            if (_reader.TokenType == JsonTokenType.String)
            {
                if (!_reader.ValueIsEscaped && Utf8Parser.TryParse(_reader.ValueSpan, out ulong parsed, out int used) && used == _reader.ValueSpan.Length)
                {
                    return parsed;
                }

                string text = JsonText.GetString(ref _reader, null);
                return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out parsed)
                    ? parsed
                    : throw Format($"\"{text}\" is not an unsigned 64-bit integer");
            }

            throw Expected("an integer (a number or a string)");
        }

        /// <summary>A proto3 JSON <c>int64</c>: a number or a decimal string.</summary>
        private long ReadInt64()
        {
            if (_reader.TokenType == JsonTokenType.Number)
            {
                if (_reader.TryGetInt64(out long number))
                {
                    return number;
                }

                if (_reader.TryGetDouble(out double real) && real >= -9223372036854775808.0 && real < 9223372036854775808.0 && real == Math.Floor(real))
                {
                    return (long)real;
                }

                throw Format($"{RawText()} is not a 64-bit integer");
            }

            if (_reader.TokenType == JsonTokenType.String)
            {
                if (!_reader.ValueIsEscaped && Utf8Parser.TryParse(_reader.ValueSpan, out long parsed, out int used) && used == _reader.ValueSpan.Length)
                {
                    return parsed;
                }

                string text = JsonText.GetString(ref _reader, null);
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out parsed)
                    ? parsed
                    : throw Format($"\"{text}\" is not a 64-bit integer");
            }

            throw Expected("an integer (a number or a string)");
        }

        /// <summary>A proto3 JSON <c>double</c>: a number, a numeric string, or NaN and the infinities as strings.</summary>
        private FlagValue ReadDouble()
        {
            if (_reader.TokenType == JsonTokenType.Number)
            {
                // Beyond the double range the reader gives no value: such a number is no double protobuf could carry.
                return _reader.TryGetDouble(out double number) && double.IsFinite(number)
                    ? FlagValue.FromDouble(number)
                    : throw Format($"{RawText()} is out of the range of a double");
            }

            if (_reader.TokenType != JsonTokenType.String)
            {
                throw Expected("a number or a string");
            }

            double special = JsonText.TextEquals(ref _reader, "NaN"u8) ? double.NaN
                : JsonText.TextEquals(ref _reader, "Infinity"u8) ? double.PositiveInfinity
                : JsonText.TextEquals(ref _reader, "-Infinity"u8) ? double.NegativeInfinity
                : 0;
            if (special != 0)
            {
                return OtlpValues.FromDouble(special);
            }

            if (!_reader.ValueIsEscaped && Utf8Parser.TryParse(_reader.ValueSpan, out double parsed, out int used)
                && used == _reader.ValueSpan.Length && double.IsFinite(parsed))
            {
                return FlagValue.FromDouble(parsed);
            }

            string text = JsonText.GetString(ref _reader, null);
            return double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out parsed)
                && double.IsFinite(parsed)
                ? FlagValue.FromDouble(parsed)
                : throw Format($"\"{text}\" is not a double");
        }

        /// <summary>
        /// Whether the current token starts a message; false for null (an absent message); throws for anything else.
        /// </summary>
        private readonly bool ExpectObject() => _reader.TokenType switch
        {
            JsonTokenType.StartObject => true,
            JsonTokenType.Null => false,
            _ => throw Expected("an object"),
        };

        /// <summary>Whether the current token starts an array; false for null (no elements); throws for anything else.</summary>
        private readonly bool StartArray() => _reader.TokenType switch
        {
            JsonTokenType.StartArray => true,
            JsonTokenType.Null => false,
            _ => throw Expected("an array"),
        };

        /// <summary>Moves to the next property name of the current object; false at its end.</summary>
        private bool NextProperty() => _reader.Read() && _reader.TokenType == JsonTokenType.PropertyName;

        /// <summary>Moves to the first token of the next element of the current array; false at its end.</summary>
        private bool NextItem() => _reader.Read() && _reader.TokenType != JsonTokenType.EndArray;

        /// <summary>On a property name: skips its value, whatever it is.</summary>
        private void SkipValue() => _reader.Skip();

        private bool IsName(ReadOnlySpan<byte> name) => JsonText.TextEquals(ref _reader, name);

        private bool IsName(ReadOnlySpan<byte> camelCase, ReadOnlySpan<byte> snakeCase) =>
            JsonText.TextEquals(ref _reader, camelCase) || JsonText.TextEquals(ref _reader, snakeCase);

        /// <summary>The current number token's text, for messages.</summary>
        private readonly string RawText() => System.Text.Encoding.UTF8.GetString(_reader.ValueSpan);

        private readonly OtlpFormatException Expected(string what) =>
            Format($"expected {what}, got {JsonText.Describe(_reader.TokenType)}");

        private readonly OtlpFormatException Format(string problem) => new($"{_path}: {problem}");
    }
}
