using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using FlagExport.Json;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Reads an OTLP/JSON <c>ExportLogsServiceRequest</c> or <c>ExportTraceServiceRequest</c>, in one pass over the tokens
/// of the whole body, straight into events through an <see cref="OtlpEventBuilder"/>.
/// </summary>
/// <remarks>
/// <para>OTLP/JSON is the proto3 JSON mapping with OTLP's deviations: field names in lowerCamelCase (the original
/// snake_case names are accepted too, as proto3 JSON parsers accept them), unknown fields ignored, enums as integers,
/// trace and span ids as hex. Only the fields that make events are read: resource attributes (for <c>service.name</c>),
/// log records' times, event name and attributes, span events' time, name and attributes. Every other field is skipped
/// whatever its value, ids included, so that a sender's quirk in a field that makes no event does not refuse its flag
/// evaluations. A <c>null</c> field is an absent one, as proto3 JSON says.</para>
/// <para>64-bit integers may be JSON numbers or decimal strings; doubles may be numbers, numeric strings, or
/// <c>"NaN"</c>, <c>"Infinity"</c> and <c>"-Infinity"</c>, which a JSON value cannot hold and which are therefore kept as
/// those strings. <c>bytesValue</c> is kept as its base64 text. A field of a read message that has the wrong JSON type,
/// values nested deeper than <see cref="MaxValueDepth"/>, or text that is not JSON throws an
/// <see cref="OtlpFormatException"/> that names the field's path, and the whole request is refused.</para>
/// <para>A resource's <c>service.name</c> is given to the builder before the resource's records, whichever order the
/// sender wrote <c>resource</c> and <c>scopeLogs</c> in: when the records come first, the rest of the object is read
/// ahead for the resource and then read again from where it was.</para>
/// </remarks>
internal static class OtlpJsonReader
{
    /// <summary>The deepest nesting of attribute values (an array or key-value list in another counts one more).</summary>
    public const int MaxValueDepth = 64;

    /// <summary>The event name of a flag evaluation, as a log record's <c>eventName</c> or a span event's <c>name</c>.</summary>
    private static ReadOnlySpan<byte> EvaluationEventName => "feature_flag.evaluation"u8;

    /// <summary>The span event name of flag evaluations that older OpenFeature hooks emit.</summary>
    private static ReadOnlySpan<byte> LegacyEvaluationEventName => "feature_flag"u8;

    /// <summary>
    /// Deep enough for <see cref="MaxValueDepth"/> nested key-value lists (four JSON levels each) under the request's
    /// own twelve levels, so that the value depth, not the reader's, is what a deep body meets first.
    /// </summary>
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 16 + (4 * MaxValueDepth) };

    /// <summary>Reads <paramref name="body"/>, a whole OTLP/JSON request of <paramref name="signal"/>.</summary>
    /// <exception cref="OtlpFormatException">The body is not a well-formed request; the message names the field.</exception>
    public static OtlpExport Read(OtlpSignal signal, ReadOnlySpan<byte> body, OtlpEventBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var path = new OtlpJsonPath();
        var parser = new Parser(body, builder, path);
        try
        {
            builder.Start();
            parser.ReadRequest(signal);
            return builder.Finish();
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
        private readonly Utf8StringCache _strings = builder.Strings;
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
            SpanEvent,
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
                        case Item.Span: ReadSpan(); break;
                        default: ReadSpanEvent(); break;
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
                        serviceName = ReadAttributes(resource: true);
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

        private void ReadLogRecord()
        {
            if (!ExpectObject())
            {
                return;
            }

            long start = _reader.TokenStartIndex;
            long time = 0, observed = 0;
            bool evaluation = false;
            _builder.BeginRecord();
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
                    evaluation |= ReadNameIs("eventName", legacy: false);
                }
                else if (IsName("attributes"u8))
                {
                    evaluation |= ReadAttributes(resource: false) is not null;
                }
                else
                {
                    SkipValue();
                }
            }

            _builder.EndRecord(time, observed, evaluation, _reader.BytesConsumed - start);
        }

        private void ReadSpan()
        {
            if (!ExpectObject())
            {
                return;
            }

            while (NextProperty())
            {
                if (IsName("events"u8))
                {
                    ReadArray("events", Item.SpanEvent);
                }
                else
                {
                    SkipValue();
                }
            }
        }

        private void ReadSpanEvent()
        {
            if (!ExpectObject())
            {
                return;
            }

            long start = _reader.TokenStartIndex;
            long time = 0;
            bool evaluation = false;
            _builder.BeginRecord();
            while (NextProperty())
            {
                if (IsName("timeUnixNano"u8, "time_unix_nano"u8))
                {
                    time = ReadTime("timeUnixNano");
                }
                else if (IsName("name"u8))
                {
                    evaluation = ReadNameIs("name", legacy: true);
                }
                else if (IsName("attributes"u8))
                {
                    _ = ReadAttributes(resource: false);
                }
                else
                {
                    SkipValue();
                }
            }

            _builder.EndRecord(time, 0, evaluation, _reader.BytesConsumed - start);
        }

        /// <summary>
        /// Reads the <c>attributes</c> array whose name was just read: a record's are given to the builder, a resource's
        /// only checked. Returns a resource's <c>service.name</c>, or, for a record, a non-null value when its
        /// <c>event.name</c> attribute names a flag evaluation.
        /// </summary>
        private string? ReadAttributes(bool resource)
        {
            string? found = null;
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

                    string key = "";
                    FlagValue value = default;
                    bool keyRead = false;
                    while (NextProperty())
                    {
                        if (IsName("key"u8))
                        {
                            _path.Push("key");
                            _ = _reader.Read();
                            key = ReadString() ?? "";
                            keyRead = true;
                            _path.Pop();
                        }
                        else if (IsName("value"u8))
                        {
                            // A resource's values are only checked, but for service.name (or one whose key comes later).
                            bool build = !resource || !keyRead || key == "service.name";
                            _path.Push("value");
                            _ = _reader.Read();
                            value = ReadAnyValue(1, build);
                            _path.Pop();
                        }
                        else
                        {
                            SkipValue();
                        }
                    }

                    if (resource)
                    {
                        if (key == "service.name" && value.Kind == FlagValueKind.String)
                        {
                            found = value.AsString();
                        }
                    }
                    else
                    {
                        if (key == "event.name" && value.Kind == FlagValueKind.String && value.AsString() == "feature_flag.evaluation")
                        {
                            found = key;
                        }

                        _builder.Attribute(key, value);
                    }
                }
            }

            _path.Pop();
            return found;
        }

        /// <summary>
        /// Reads the <c>AnyValue</c> whose first token is current, at <paramref name="depth"/> (1 for an attribute's);
        /// with <paramref name="build"/> off it is only checked and the result is null.
        /// </summary>
        private FlagValue ReadAnyValue(int depth, bool build)
        {
            if (!ExpectObject())
            {
                return default;
            }

            if (depth > MaxValueDepth)
            {
                throw Format($"values are nested deeper than {MaxValueDepth}");
            }

            FlagValue value = default;
            while (NextProperty())
            {
                if (IsName("stringValue"u8, "string_value"u8))
                {
                    _path.Push("stringValue");
                    _ = _reader.Read();
                    string? text = ReadString();
                    value = build ? FlagValue.FromString(text) : default;
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
                    value = _reader.TokenType == JsonTokenType.Null ? default : ReadDouble(build);
                    _path.Pop();
                }
                else if (IsName("bytesValue"u8, "bytes_value"u8))
                {
                    _path.Push("bytesValue");
                    _ = _reader.Read();
                    string? base64 = ReadString();
                    value = build ? FlagValue.FromString(base64) : default;
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
                                key = ReadString() ?? "";
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

        /// <summary>On the value of the string field entered last: whether it names a flag evaluation.</summary>
        private bool ReadNameIs(string field, bool legacy)
        {
            _path.Push(field);
            _ = _reader.Read();
            bool evaluation = false;
            if (_reader.TokenType == JsonTokenType.String)
            {
                evaluation = JsonText.TextEquals(ref _reader, EvaluationEventName)
                    || (legacy && JsonText.TextEquals(ref _reader, LegacyEvaluationEventName));
            }
            else if (_reader.TokenType != JsonTokenType.Null)
            {
                throw Expected("a string");
            }

            _path.Pop();
            return evaluation;
        }

        /// <summary>The current string token (short ASCII ones shared through the cache), or null for JSON null.</summary>
        private string? ReadString() => _reader.TokenType switch
        {
            JsonTokenType.String => JsonText.GetString(ref _reader, _strings),
            JsonTokenType.Null => null,
            _ => throw Expected("a string"),
        };

        /// <summary>On the value of a <c>fixed64</c> time field: nanoseconds since the Unix epoch (0 for null).</summary>
        private long ReadTime(string field)
        {
            _path.Push(field);
            _ = _reader.Read();
            long time = 0;
            if (_reader.TokenType != JsonTokenType.Null)
            {
                ulong nanoseconds = ReadUInt64();
                time = nanoseconds <= long.MaxValue ? (long)nanoseconds : throw Format($"{nanoseconds} is out of range");
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
        private FlagValue ReadDouble(bool build)
        {
            if (_reader.TokenType == JsonTokenType.Number)
            {
                // Beyond the double range the reader gives no value; a JSON value cannot hold an infinity.
                return _reader.TryGetDouble(out double number) && double.IsFinite(number)
                    ? (build ? FlagValue.FromDouble(number) : default)
                    : throw Format($"{RawText()} is out of the range of a double");
            }

            if (_reader.TokenType != JsonTokenType.String)
            {
                throw Expected("a number or a string");
            }

            if (JsonText.TextEquals(ref _reader, "NaN"u8))
            {
                return build ? FlagValue.FromString("NaN") : default;
            }

            if (JsonText.TextEquals(ref _reader, "Infinity"u8))
            {
                return build ? FlagValue.FromString("Infinity") : default;
            }

            if (JsonText.TextEquals(ref _reader, "-Infinity"u8))
            {
                return build ? FlagValue.FromString("-Infinity") : default;
            }

            string text = JsonText.GetString(ref _reader, null);
            return double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double parsed)
                && double.IsFinite(parsed)
                ? (build ? FlagValue.FromDouble(parsed) : default)
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
