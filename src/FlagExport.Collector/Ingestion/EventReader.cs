using System.Runtime.CompilerServices;
using System.Text.Json;
using FlagExport.Json;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// Reads one element of the <c>events</c> array, in one pass over its tokens, into a <see cref="FeatureEvent"/> or a
/// <see cref="TrackingEvent"/> with the rules of go-feature-flag's relay proxy.
/// </summary>
/// <remarks>
/// <para>The relay proxy treats an event whose <c>"kind"</c> property (exact name, last one) is exactly the string
/// <c>"tracking"</c> as a tracking event and any other as a feature event. Field names match case-insensitively (Go's
/// decoders do), a repeated field keeps its last value, a field that is missing or null keeps its zero value, and a
/// field of the wrong type fails the event; when several fields are wrong, the first in the event type's field order is
/// reported.</para>
/// <para>Feature events: an empty <c>source</c> becomes <c>PROVIDER_CACHE</c>; a boolean <c>defaultValue</c> (go-feature-flag's
/// .NET provider) stands for <c>default</c> when that is missing or null, any other is ignored; the request's <c>meta</c>, when present, replaces the event's own
/// <c>metadata</c>, which is then only checked, not built; a fractional <c>creationDate</c> is truncated (Go's
/// mapstructure does). Tracking events: <c>creationDate</c> must be a whole number (Go's encoding/json); <c>meta</c> is not
/// applied. Both: a <c>creationDate</c> above 9999999999 is taken as milliseconds (or finer) and keeps its first ten
/// digits, the seconds.</para>
/// </remarks>
internal static class EventReader
{
    /// <summary>The source given to feature events that do not say where they were evaluated.</summary>
    public const string DefaultSource = "PROVIDER_CACHE";

    /// <summary>The largest creation date taken as seconds; above it, the date is in milliseconds or finer.</summary>
    public const long MaxSeconds = 9_999_999_999;

    /// <summary>
    /// Reads the event whose <see cref="JsonTokenType.StartObject"/> is the reader's current token.
    /// </summary>
    /// <param name="reader">On the event's first token; on its last afterwards, unless more data is needed.</param>
    /// <param name="strings">Reuses repeated short strings (kinds, keys, variations, sources, metadata names).</param>
    /// <param name="meta">The request's <c>meta</c> when already known, else <see langword="null"/>.</param>
    /// <param name="result">The event, or <see langword="null"/> when it was rejected.</param>
    /// <param name="rejection">Why the event was rejected (<c>feature event: userKey must be a string; got a number</c>).</param>
    /// <returns><see cref="JsonReadStatus.Done"/>, or <see cref="JsonReadStatus.NeedMoreData"/> when the text ends inside the event.</returns>
    public static JsonReadStatus Read(ref Utf8JsonReader reader, Utf8StringCache strings, FlagObject? meta, out ExportableEvent? result, out string? rejection)
    {
        result = null;
        rejection = null;
        var draft = new Draft();
        while (true)
        {
            if (!reader.Read())
            {
                return JsonReadStatus.NeedMoreData;
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            EventField field = EventFields.Find(ref reader);
            // Only a name that matches "kind" ignoring case can be exactly "kind".
            bool exactKind = field == EventField.Kind && JsonText.TextEquals(ref reader, "kind"u8);
            if (!reader.Read())
            {
                return JsonReadStatus.NeedMoreData;
            }

            if (exactKind)
            {
                draft.Tracking = reader.TokenType == JsonTokenType.String && JsonText.TextEquals(ref reader, "tracking"u8);
            }

            if (!draft.ReadField(ref reader, field, strings, buildMetadata: meta is null))
            {
                return JsonReadStatus.NeedMoreData;
            }
        }

        if (draft.Tracking)
        {
            rejection = draft.TryBuildTracking(out TrackingEvent? tracking);
            result = tracking;
            rejection = rejection is null ? null : $"tracking event: {rejection}";
        }
        else
        {
            rejection = draft.TryBuildFeature(meta, out FeatureEvent? feature);
            result = feature;
            rejection = rejection is null ? null : $"feature event: {rejection}";
        }

        return JsonReadStatus.Done;
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

    /// <summary>The order in which a feature event's fields are checked, as the relay proxy's decoder meets them.</summary>
    private static readonly EventField[] FeatureOrder =
    [
        EventField.Kind, EventField.ContextKind, EventField.UserKey, EventField.CreationDate, EventField.Key,
        EventField.Variation, EventField.Value, EventField.Default, EventField.Version, EventField.Source, EventField.Metadata,
    ];

    /// <summary>The order in which a tracking event's fields are checked.</summary>
    private static readonly EventField[] TrackingOrder =
    [
        EventField.Kind, EventField.ContextKind, EventField.UserKey, EventField.CreationDate, EventField.Key,
        EventField.EvaluationContext, EventField.TrackingEventDetails,
    ];

    /// <summary>How a <c>creationDate</c> was written.</summary>
    private enum DateForm
    {
        Missing,
        Integer,
        Fraction,
        OutOfRange,
    }

    /// <summary>One error slot per <see cref="EventField"/>, inline so that a valid event allocates none.</summary>
    [InlineArray(15)]
    private struct FieldErrors
    {
        private string? _first;
    }

    /// <summary>The fields of one event as read so far: the last occurrence of each wins, with its error.</summary>
    private struct Draft
    {
        public bool Tracking;
        private string _kind, _contextKind, _userKey, _key, _variation, _version, _source;
        private DateForm _dateForm;
        private long _dateInteger;
        private double _dateNumber;
        private string? _dateText;
        private FlagValue _value;
        private bool? _default, _defaultValue;
        private FlagObject? _metadata, _evaluationContext, _trackingEventDetails;
        private FieldErrors _errors;

        public Draft()
        {
            _kind = _contextKind = _userKey = _key = _variation = _version = _source = "";
        }

        /// <summary>Reads the value of <paramref name="field"/>; <see langword="false"/> when the text ends inside it.</summary>
        public bool ReadField(ref Utf8JsonReader reader, EventField field, Utf8StringCache strings, bool buildMetadata)
        {
            ref string? error = ref _errors[(int)field];
            switch (field)
            {
                case EventField.Kind: return ReadString(ref reader, field, strings, ref _kind, ref error);
                case EventField.ContextKind: return ReadString(ref reader, field, strings, ref _contextKind, ref error);
                case EventField.UserKey: return ReadString(ref reader, field, null, ref _userKey, ref error); // unique: not cached
                case EventField.Key: return ReadString(ref reader, field, strings, ref _key, ref error);
                case EventField.Variation: return ReadString(ref reader, field, strings, ref _variation, ref error);
                case EventField.Version: return ReadString(ref reader, field, strings, ref _version, ref error);
                case EventField.Source: return ReadString(ref reader, field, strings, ref _source, ref error);
                case EventField.Default: return ReadBoolean(ref reader, field, ref _default, ref error);
                case EventField.DefaultValue:
                    // Not a relay-proxy field: a value that is not a boolean is ignored, as the relay proxy ignores the field.
                    _defaultValue = reader.TokenType switch { JsonTokenType.True => true, JsonTokenType.False => false, _ => null };
                    return reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray) || reader.TrySkip();
                case EventField.CreationDate: return ReadDate(ref reader, ref error);
                case EventField.Metadata: return ReadObject(ref reader, field, strings, buildMetadata, ref _metadata, ref error);
                case EventField.EvaluationContext: return ReadObject(ref reader, field, strings, true, ref _evaluationContext, ref error);
                case EventField.TrackingEventDetails: return ReadObject(ref reader, field, strings, true, ref _trackingEventDetails, ref error);
                case EventField.Value:
                    error = null;
                    switch (FlagValueReader.Read(ref reader, strings, build: true, out _value, out string? problem))
                    {
                        case JsonReadStatus.NeedMoreData: return false;
                        case JsonReadStatus.Invalid: error = $"value: {problem}"; break;
                    }

                    return true;
                default:
                    return reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray) || reader.TrySkip();
            }
        }

        /// <summary>The feature event, or the reason it cannot be one.</summary>
        public readonly string? TryBuildFeature(FlagObject? meta, out FeatureEvent? result)
        {
            result = null;
            if (FirstError(FeatureOrder, wholeDate: false, out long creationDate) is { } error)
            {
                return error;
            }

            result = new FeatureEvent
            {
                Kind = _kind,
                ContextKind = _contextKind,
                UserKey = _userKey,
                CreationDate = creationDate,
                Key = _key,
                Variation = _variation,
                Value = _value,
                Default = _default ?? _defaultValue ?? false, // defaultValue only when default is missing or null
                Version = _version,
                Source = _source.Length == 0 ? DefaultSource : _source,
                Metadata = meta ?? _metadata,
            };
            return null;
        }

        /// <summary>The tracking event, or the reason it cannot be one.</summary>
        public readonly string? TryBuildTracking(out TrackingEvent? result)
        {
            result = null;
            if (FirstError(TrackingOrder, wholeDate: true, out long creationDate) is { } error)
            {
                return error;
            }

            result = new TrackingEvent
            {
                Kind = _kind,
                ContextKind = _contextKind,
                UserKey = _userKey,
                CreationDate = creationDate,
                Key = _key,
                EvaluationContext = _evaluationContext, // missing stays null, written as null, as the relay proxy does
                TrackingEventDetails = _trackingEventDetails,
            };
            return null;
        }

        /// <summary>The first error among <paramref name="order"/>, with the creation date worked out on the way.</summary>
        private readonly string? FirstError(ReadOnlySpan<EventField> order, bool wholeDate, out long creationDate)
        {
            creationDate = 0;
            foreach (EventField field in order)
            {
                if (_errors[(int)field] is { } error)
                {
                    return error;
                }

                if (field == EventField.CreationDate && DateError(wholeDate, out creationDate) is { } dateError)
                {
                    return dateError;
                }
            }

            return null;
        }

        /// <summary>Go holds the date as a float64: mapstructure truncates it, encoding/json accepts only a whole one.</summary>
        private readonly string? DateError(bool wholeOnly, out long seconds)
        {
            seconds = 0;
            switch (_dateForm)
            {
                case DateForm.Integer:
                    seconds = ToSeconds(_dateInteger);
                    return null;
                case DateForm.Fraction when !wholeOnly || _dateNumber == Math.Truncate(_dateNumber):
                    seconds = ToSeconds((long)_dateNumber);
                    return null;
                case DateForm.Fraction:
                case DateForm.OutOfRange:
                    return $"creationDate must be a whole number of seconds or milliseconds; got {Shorten(_dateText!)}";
                default:
                    return null;
            }
        }

        private bool ReadDate(ref Utf8JsonReader reader, ref string? error)
        {
            error = null;
            _dateForm = DateForm.Missing;
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return true;
                case JsonTokenType.Number when reader.TryGetInt64(out long integer):
                    _dateForm = DateForm.Integer;
                    _dateInteger = integer;
                    return true;
                case JsonTokenType.Number:
                    _dateText = FlagValueReader.RawText(ref reader);
                    _dateForm = reader.TryGetDouble(out double number) && double.IsFinite(number) && Math.Abs(number) < 9.2e18
                        ? DateForm.Fraction
                        : DateForm.OutOfRange;
                    _dateNumber = number;
                    return true;
                default:
                    return WrongType(ref reader, EventField.CreationDate, "a number", ref error);
            }
        }

        private static bool ReadString(ref Utf8JsonReader reader, EventField field, Utf8StringCache? strings, ref string text, ref string? error)
        {
            text = "";
            error = null;
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return true;
                case JsonTokenType.String:
                    text = JsonText.GetString(ref reader, strings);
                    return true;
                default:
                    return WrongType(ref reader, field, "a string", ref error);
            }
        }

        private static bool ReadBoolean(ref Utf8JsonReader reader, EventField field, ref bool? value, ref string? error)
        {
            value = null;
            error = null;
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return true;
                case JsonTokenType.True or JsonTokenType.False:
                    value = reader.TokenType == JsonTokenType.True;
                    return true;
                default:
                    return WrongType(ref reader, field, "a boolean", ref error);
            }
        }

        private static bool ReadObject(ref Utf8JsonReader reader, EventField field, Utf8StringCache strings, bool build, ref FlagObject? value, ref string? error)
        {
            value = null;
            error = null;
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return true;
                case JsonTokenType.StartObject:
                    switch (FlagValueReader.ReadObject(ref reader, strings, build, out value, out string? problem))
                    {
                        case JsonReadStatus.NeedMoreData: return false;
                        case JsonReadStatus.Invalid: error = $"{EventFields.NameOf(field)}: {problem}"; break;
                    }

                    return true;
                default:
                    return WrongType(ref reader, field, "an object", ref error);
            }
        }

        /// <summary>Records the wrong type and skips the value; <see langword="false"/> when the text ends inside it.</summary>
        private static bool WrongType(ref Utf8JsonReader reader, EventField field, string expected, ref string? error)
        {
            error = $"{EventFields.NameOf(field)} must be {expected}; got {JsonText.Describe(reader.TokenType)}";
            return reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray) || reader.TrySkip();
        }

        private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
    }
}
