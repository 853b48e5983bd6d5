using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace FlagExport.Collector.Ingestion;

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
internal static class EventConverter
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

            text = JsonValues.GetString(field);
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

            if (!JsonValues.TryConvert(field, out error, out value))
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

            if (!JsonValues.TryConvertObject(field, out error, out FlagObject? properties))
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
                if (JsonValues.NameEqualsIgnoreCase(property, name))
                {
                    value = property.Value;
                    found = true;
                }
            }

            return found;
        }

        private static string WrongType(string name, string expected, JsonElement field) =>
            $"{name} must be {expected}; got {JsonValues.Describe(field)}";

        private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
    }
}
