using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using FlagExport.Collector.Ingestion;

namespace FlagExport.Collector.Tests.Ingestion.Reference;

// The collector's request parsing as it was built on JsonDocument: kept unchanged as the reference the streaming
// parser is compared with (CollectRequestParserTests) and as the baseline of the ingestion benchmark.
// Only the type names differ.


/// <summary>
/// A parsed <c>POST /v1/data/collector</c> body, <c>{"meta": {...}, "events": [...]}</c> as go-feature-flag's relay
/// proxy defines it: every event converted, or the reason it could not be.
/// </summary>
/// <remarks>
/// The whole body is checked before anything is handed to the exporters, so a request is either applied (minus the
/// events listed in <see cref="Rejected"/>) or refused with a message and changes nothing. Invalid UTF-8 is replaced
/// with U+FFFD, as Go's decoder does (one U+FFFD per maximal invalid subsequence, where Go may write one per byte).
/// </remarks>
internal sealed class ReferenceCollectRequest
{
    /// <summary>The deepest nesting accepted, as System.Text.Json's default.</summary>
    internal const int MaxDepth = 64;

    private ReferenceCollectRequest(List<ExportableEvent> events, List<RejectedEvent> rejected)
    {
        Events = events;
        Rejected = rejected;
    }

    /// <summary>The converted events, in request order.</summary>
    public IReadOnlyList<ExportableEvent> Events { get; }

    /// <summary>The events that could not be converted.</summary>
    public IReadOnlyList<RejectedEvent> Rejected { get; }

    /// <summary>
    /// Parses <paramref name="body"/>, or returns <see langword="false"/> with a message for a 400 answer: malformed
    /// JSON, a body that is not an object, <c>events</c> missing or not an array, an element that is not an object,
    /// or a <c>meta</c> that is not an object.
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> body, [NotNullWhen(true)] out ReferenceCollectRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (body.IsEmpty)
        {
            error = "The request body is empty; expected a JSON object such as {\"events\": [...]}.";
            return false;
        }

        // Go's decoder replaces invalid UTF-8 with U+FFFD; System.Text.Json would refuse the strings holding it.
        if (!Utf8.IsValid(body.Span))
        {
            body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body.Span));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException exception)
        {
            error = exception.Message.Contains("maximum configured depth", StringComparison.Ordinal)
                ? $"The request body nests JSON deeper than {MaxDepth} levels (counting the body, the events array and the event), the most the collector accepts in an event's value, metadata or context; nothing was accepted."
                : $"The request body is not valid JSON: {exception.Message}";
            return false;
        }

        using (document)
        {
            return TryRead(document.RootElement, out request, out error);
        }
    }

    private static bool TryRead(JsonElement root, [NotNullWhen(true)] out ReferenceCollectRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = $"The request body must be a JSON object with an \"events\" array; got {ReferenceJsonValues.Describe(root)}.";
            return false;
        }

        // Go's encoding/json matches "events" and "meta" case-insensitively and keeps the last of repeated names.
        JsonElement? events = null, meta = null;
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (ReferenceJsonValues.NameEqualsIgnoreCase(property, "events"))
            {
                events = property.Value;
            }
            else if (ReferenceJsonValues.NameEqualsIgnoreCase(property, "meta"))
            {
                meta = property.Value;
            }
        }

        if (events is not { ValueKind: JsonValueKind.Array } list)
        {
            error = events is null
                ? "The request body has no \"events\" array; expected {\"meta\": {...}, \"events\": [...]}."
                : $"\"events\" must be an array; got {ReferenceJsonValues.Describe(events.Value)}.";
            return false;
        }

        FlagObject? metadata = null;
        if (meta is { ValueKind: not JsonValueKind.Null } metaElement
            && !ReferenceJsonValues.TryConvertObject(metaElement, out error, out metadata))
        {
            error = $"\"meta\" {error}.";
            return false;
        }

        int index = 0;
        foreach (JsonElement element in list.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                error = $"events[{index}] must be a JSON object; got {ReferenceJsonValues.Describe(element)}.";
                return false;
            }

            index++;
        }

        var converted = new List<ExportableEvent>(index);
        var rejected = new List<RejectedEvent>();
        index = 0;
        foreach (JsonElement element in list.EnumerateArray())
        {
            if (ReferenceEventConverter.IsTracking(element))
            {
                if (ReferenceEventConverter.TryConvertTracking(element, out TrackingEvent? tracking, out string? reason))
                {
                    converted.Add(tracking);
                }
                else
                {
                    rejected.Add(new(index, $"tracking event: {reason}"));
                }
            }
            else if (ReferenceEventConverter.TryConvertFeature(element, metadata, out FeatureEvent? feature, out string? reason))
            {
                converted.Add(feature);
            }
            else
            {
                rejected.Add(new(index, $"feature event: {reason}"));
            }

            index++;
        }

        request = new ReferenceCollectRequest(converted, rejected);
        error = null;
        return true;
    }
}

/// <summary>
/// Turns one element of the <c>events</c> array into a <see cref="FeatureEvent"/> or a <see cref="TrackingEvent"/>,
/// with the rules of go-feature-flag's relay proxy.
/// </summary>
/// <remarks>
/// <para>The relay proxy treats an event whose <c>"kind"</c> property is exactly the string <c>"tracking"</c> as a
/// tracking event and any other as a feature event. Field names match case-insensitively (Go's decoders do), a field
/// that is missing or null keeps its zero value, and a field of the wrong type fails the event.</para>
/// <para>Feature events: an empty <c>source</c> becomes <c>PROVIDER_CACHE</c>; the request's <c>meta</c>, when present,
/// replaces the event's own <c>metadata</c>; a fractional <c>creationDate</c> is truncated (Go's mapstructure does).
/// Tracking events: <c>creationDate</c> must be a whole number (Go's encoding/json); <c>meta</c> is not applied.
/// Both: a <c>creationDate</c> above 9999999999 is taken as milliseconds (or finer) and keeps its first ten digits,
/// the seconds.</para>
/// </remarks>
internal static class ReferenceEventConverter
{
    /// <summary>The source given to feature events that do not say where they were evaluated.</summary>
    public const string DefaultSource = "PROVIDER_CACHE";

    /// <summary>The largest creation date taken as seconds; above it, the date is in milliseconds or finer.</summary>
    public const long MaxSeconds = 9_999_999_999;

    /// <summary><see langword="true"/> when the relay proxy would route <paramref name="element"/> to the tracking exporters.</summary>
    public static bool IsTracking(JsonElement element) =>
        element.TryGetProperty("kind"u8, out JsonElement kind) && kind.ValueKind == JsonValueKind.String && kind.ValueEquals("tracking"u8);

    /// <summary>Converts a feature event; <paramref name="meta"/> is the request's <c>meta</c> or <see langword="null"/>.</summary>
    public static bool TryConvertFeature(JsonElement element, FlagObject? meta, [NotNullWhen(true)] out FeatureEvent? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        var fields = new Fields(element);
        if (!fields.TryGetString("kind", out string kind, out error)
            || !fields.TryGetString("contextKind", out string contextKind, out error)
            || !fields.TryGetString("userKey", out string userKey, out error)
            || !fields.TryGetCreationDate(wholeOnly: false, out long creationDate, out error)
            || !fields.TryGetString("key", out string key, out error)
            || !fields.TryGetString("variation", out string variation, out error)
            || !fields.TryGetValue("value", out FlagValue value, out error)
            || !fields.TryGetBoolean("default", out bool isDefault, out error)
            || !fields.TryGetString("version", out string version, out error)
            || !fields.TryGetString("source", out string source, out error)
            || !fields.TryGetObject("metadata", out FlagObject? metadata, out error))
        {
            return false;
        }

        result = new FeatureEvent
        {
            Kind = kind,
            ContextKind = contextKind,
            UserKey = userKey,
            CreationDate = creationDate,
            Key = key,
            Variation = variation,
            Value = value,
            Default = isDefault,
            Version = version,
            Source = source.Length == 0 ? DefaultSource : source,
            Metadata = meta ?? metadata,
        };
        return true;
    }

    /// <summary>Converts a tracking event.</summary>
    public static bool TryConvertTracking(JsonElement element, [NotNullWhen(true)] out TrackingEvent? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        var fields = new Fields(element);
        if (!fields.TryGetString("kind", out string kind, out error)
            || !fields.TryGetString("contextKind", out string contextKind, out error)
            || !fields.TryGetString("userKey", out string userKey, out error)
            || !fields.TryGetCreationDate(wholeOnly: true, out long creationDate, out error)
            || !fields.TryGetString("key", out string key, out error)
            || !fields.TryGetObject("evaluationContext", out FlagObject? evaluationContext, out error)
            || !fields.TryGetObject("trackingEventDetails", out FlagObject? details, out error))
        {
            return false;
        }

        result = new TrackingEvent
        {
            Kind = kind,
            ContextKind = contextKind,
            UserKey = userKey,
            CreationDate = creationDate,
            Key = key,
            EvaluationContext = evaluationContext, // missing stays null, written as null, as the relay proxy does
            TrackingEventDetails = details,
        };
        return true;
    }

    /// <summary>Seconds from a Unix date that may be in milliseconds, microseconds or nanoseconds: its first ten digits.</summary>
    public static long ToSeconds(long creationDate)
    {
        while (creationDate > MaxSeconds)
        {
            creationDate /= 10;
        }

        return creationDate;
    }

    /// <summary>The properties of one event, looked up by name case-insensitively; a repeated name keeps its last value.</summary>
    private readonly struct Fields(JsonElement element)
    {
        public bool TryGetString(string name, out string text, [NotNullWhen(false)] out string? error)
        {
            text = "";
            error = null;
            if (!Find(name, out JsonElement field) || field.ValueKind == JsonValueKind.Null)
            {
                return true;
            }

            if (field.ValueKind != JsonValueKind.String)
            {
                error = WrongType(name, "a string", field);
                return false;
            }

            text = ReferenceJsonValues.GetString(field);
            return true;
        }

        public bool TryGetBoolean(string name, out bool value, [NotNullWhen(false)] out string? error)
        {
            value = false;
            error = null;
            if (!Find(name, out JsonElement field) || field.ValueKind == JsonValueKind.Null)
            {
                return true;
            }

            if (field.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                error = WrongType(name, "a boolean", field);
                return false;
            }

            value = field.ValueKind == JsonValueKind.True;
            return true;
        }

        public bool TryGetValue(string name, out FlagValue value, [NotNullWhen(false)] out string? error)
        {
            value = default;
            error = null;
            if (!Find(name, out JsonElement field))
            {
                return true;
            }

            if (!ReferenceJsonValues.TryConvert(field, out error, out value))
            {
                error = $"{name}: {error}";
                return false;
            }

            return true;
        }

        public bool TryGetObject(string name, out FlagObject? value, [NotNullWhen(false)] out string? error)
        {
            value = null;
            error = null;
            if (!Find(name, out JsonElement field) || field.ValueKind == JsonValueKind.Null)
            {
                return true;
            }

            if (!ReferenceJsonValues.TryConvertObject(field, out error, out FlagObject? properties))
            {
                error = field.ValueKind == JsonValueKind.Object ? $"{name}: {error}" : WrongType(name, "an object", field);
                return false;
            }

            value = properties;
            return true;
        }

        public bool TryGetCreationDate(bool wholeOnly, out long seconds, [NotNullWhen(false)] out string? error)
        {
            const string name = "creationDate";
            seconds = 0;
            error = null;
            if (!Find(name, out JsonElement field) || field.ValueKind == JsonValueKind.Null)
            {
                return true;
            }

            if (field.ValueKind != JsonValueKind.Number)
            {
                error = WrongType(name, "a number", field);
                return false;
            }

            if (field.TryGetInt64(out long integer))
            {
                seconds = ToSeconds(integer);
                return true;
            }

            // Go holds the number as a float64: mapstructure truncates it, encoding/json accepts only a whole one.
            if (field.TryGetDouble(out double number) && double.IsFinite(number) && Math.Abs(number) < 9.2e18
                && (!wholeOnly || number == Math.Truncate(number)))
            {
                seconds = ToSeconds((long)number);
                return true;
            }

            error = $"{name} must be a whole number of seconds or milliseconds; got {Shorten(field.GetRawText())}";
            return false;
        }

        private bool Find(string name, out JsonElement value)
        {
            value = default;
            bool found = false;
            foreach (JsonProperty property in element.EnumerateObject())
            {
                if (ReferenceJsonValues.NameEqualsIgnoreCase(property, name))
                {
                    value = property.Value;
                    found = true;
                }
            }

            return found;
        }

        private static string WrongType(string name, string expected, JsonElement field) =>
            $"{name} must be {expected}; got {ReferenceJsonValues.Describe(field)}";

        private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
    }
}

/// <summary>
/// Converts parsed JSON into <see cref="FlagValue"/>s as go-feature-flag's relay proxy sees them, without throwing on
/// anything a client can send.
/// </summary>
/// <remarks>
/// The relay proxy decodes the request into Go's <c>map[string]any</c>, where every number is a float64. Integers up to
/// 2^53 in magnitude are exact in a float64 and are kept as integers here; larger ones and decimals become doubles, so
/// that they are written with the same digits as Go writes them. Numbers beyond the double range cannot be represented
/// and are reported as errors. A lone UTF-16 surrogate escape (<c>"\ud800"</c>) becomes U+FFFD, as Go's decoder makes
/// it; invalid UTF-8 is replaced before parsing (<see cref="ReferenceCollectRequest"/>).
/// </remarks>
internal static class ReferenceJsonValues
{
    /// <summary>2^53: the largest integer magnitude below which every integer is exact in a double.</summary>
    private const long MaxExactInteger = 1L << 53;

    /// <summary>Converts <paramref name="element"/>, or returns <see langword="false"/> with what is wrong with it.</summary>
    public static bool TryConvert(JsonElement element, [NotNullWhen(false)] out string? error, out FlagValue value)
    {
        value = default;
        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                error = null;
                return true;
            case JsonValueKind.True:
                value = FlagValue.FromBoolean(true);
                error = null;
                return true;
            case JsonValueKind.False:
                value = FlagValue.FromBoolean(false);
                error = null;
                return true;
            case JsonValueKind.String:
                value = FlagValue.FromString(GetString(element));
                error = null;
                return true;
            case JsonValueKind.Number:
                return TryGetNumber(element, out error, out value);
            case JsonValueKind.Array:
                var items = new List<FlagValue>(element.GetArrayLength());
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (!TryConvert(item, out error, out FlagValue converted))
                    {
                        return false;
                    }

                    items.Add(converted);
                }

                value = FlagValue.FromArray(items);
                error = null;
                return true;
            case JsonValueKind.Object:
                if (!TryConvertObject(element, out error, out FlagObject? properties))
                {
                    return false;
                }

                value = FlagValue.FromObject(properties);
                return true;
            default:
                error = $"unsupported JSON value kind {element.ValueKind}";
                return false;
        }
    }

    /// <summary>Converts a JSON object element into a <see cref="FlagObject"/>.</summary>
    public static bool TryConvertObject(JsonElement element, [NotNullWhen(false)] out string? error, [NotNullWhen(true)] out FlagObject? properties)
    {
        properties = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = $"must be a JSON object; got {Describe(element)}";
            return false;
        }

        var items = new List<KeyValuePair<string, FlagValue>>();
        foreach (JsonProperty property in element.EnumerateObject())
        {
            string name = GetName(property);
            if (!TryConvert(property.Value, out error, out FlagValue converted))
            {
                error = $"property '{name}': {error}";
                return false;
            }

            items.Add(new(name, converted));
        }

        properties = FlagObject.Create(items);
        error = null;
        return true;
    }

    /// <summary>The string of a JSON string element, with lone surrogate escapes replaced by U+FFFD.</summary>
    public static string GetString(JsonElement element)
    {
        string text;
        try
        {
            text = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape a lone surrogate such as "\ud800"; Go decodes it as U+FFFD.
            ReadOnlySpan<byte> raw = JsonMarshal.GetRawUtf8Value(element);
            text = Unescape(raw[1..^1]);
        }

        return ReplaceLoneSurrogates(text);
    }

    /// <summary>The name of a property, with lone surrogate escapes replaced by U+FFFD.</summary>
    public static string GetName(JsonProperty property)
    {
        string name;
        try
        {
            name = property.Name;
        }
        catch (InvalidOperationException)
        {
            name = Unescape(JsonMarshal.GetRawUtf8PropertyName(property));
        }

        return ReplaceLoneSurrogates(name);
    }

    /// <summary>
    /// Whether the property's name is <paramref name="name"/> (an ASCII field name), ignoring case as
    /// <see cref="StringComparison.OrdinalIgnoreCase"/> does on the decoded name; without allocating for the plain ASCII
    /// names events have, where the two comparisons agree.
    /// </summary>
    public static bool NameEqualsIgnoreCase(JsonProperty property, string name)
    {
        ReadOnlySpan<byte> raw = JsonMarshal.GetRawUtf8PropertyName(property);
        return Ascii.IsValid(raw) && !raw.Contains((byte)'\\')
            ? Ascii.EqualsIgnoreCase(raw, name)
            : GetName(property).Equals(name, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A short description of an element's type for error messages: <c>a string</c>, <c>null</c>, …</summary>
    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>Replaces each surrogate that is not part of a pair with U+FFFD, as Go's JSON decoder does.</summary>
    internal static string ReplaceLoneSurrogates(string text)
    {
        int first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return text;
        }

        char[] chars = text.ToCharArray();
        for (int i = first; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    /// <summary>
    /// Decodes the escapes of a JSON string's raw UTF-8 content (without its quotes), keeping lone surrogates; used only
    /// for the strings System.Text.Json will not unescape. The parser has already checked the escapes are well formed.
    /// </summary>
    internal static string Unescape(ReadOnlySpan<byte> raw)
    {
        var text = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            int escape = raw.IndexOf((byte)'\\');
            if (escape < 0)
            {
                _ = text.Append(Encoding.UTF8.GetString(raw));
                break;
            }

            _ = text.Append(Encoding.UTF8.GetString(raw[..escape]));
            byte code = raw[escape + 1];
            if (code == (byte)'u')
            {
                _ = text.Append((char)int.Parse(Encoding.ASCII.GetString(raw.Slice(escape + 2, 4)), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                raw = raw[(escape + 6)..];
                continue;
            }

            _ = text.Append(code switch
            {
                (byte)'b' => '\b',
                (byte)'f' => '\f',
                (byte)'n' => '\n',
                (byte)'r' => '\r',
                (byte)'t' => '\t',
                _ => (char)code, // \" \\ \/
            });
            raw = raw[(escape + 2)..];
        }

        return text.ToString();
    }

    private static bool TryGetNumber(JsonElement element, [NotNullWhen(false)] out string? error, out FlagValue value)
    {
        if (element.TryGetInt64(out long integer) && integer is > -MaxExactInteger and < MaxExactInteger)
        {
            value = FlagValue.FromInteger(integer);
            error = null;
            return true;
        }

        if (element.TryGetDouble(out double number) && double.IsFinite(number))
        {
            value = FlagValue.FromDouble(number);
            error = null;
            return true;
        }

        value = default;
        error = $"number {element.GetRawText()} is out of range";
        return false;
    }
}
