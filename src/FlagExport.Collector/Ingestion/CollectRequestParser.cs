using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using FlagExport.Json;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// Parses a <c>POST /v1/data/collector</c> body as it arrives, in one pass with <see cref="Utf8JsonReader"/>, straight
/// into events: the memory held follows the events, not the JSON text.
/// </summary>
/// <remarks>
/// <para>Feed the body with <see cref="Parse"/> as it arrives (each call returns how much it consumed; the rest is given
/// again, with more, next time), then call <see cref="TryComplete"/>. The outcome is the one the relay proxy's decoder
/// reaches on the whole body: malformed JSON is reported first (with System.Text.Json's message, line and position), then
/// a body that is not an object, then a missing or non-array <c>events</c>, then a <c>meta</c> that is not an object,
/// then an element that is not an object; each event that cannot be converted is rejected on its own.</para>
/// <para>Go's encoding/json matches <c>events</c> and <c>meta</c> case-insensitively and keeps the last of repeated
/// names. A <c>meta</c> replaces the events' own metadata: events read after it only check theirs. A later
/// <c>"meta": null</c> does not bring back the metadata of events read while an earlier <c>meta</c> was in force.</para>
/// <para>A request from FlagExport's webhook exporter (<see cref="WebhookExporter.EventMetadataHeader"/>) is parsed with
/// <c>keepEventMetadata</c>: its events already carry the metadata they were written with, so <c>meta</c> (which
/// describes the sender) is only checked, and each event keeps its own metadata, or none.</para>
/// </remarks>
internal sealed class CollectRequestParser(Utf8StringCache strings, bool keepEventMetadata = false)
{
    /// <summary>The deepest nesting accepted, as System.Text.Json's default.</summary>
    public const int MaxDepth = FlagValueReader.MaxDepth;

    private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = MaxDepth });
    private Stage _stage = Stage.Start;
    private List<ExportableEvent> _events = [];
    private List<RejectedEvent> _rejected = [];
    private int _index;
    private FlagObject? _meta;
    private long _metaBytes;   // the bytes of the meta object in force
    private long _eventBytes;  // the bytes of the converted events of the events array in force
    private string? _rootError, _eventsError, _metaError, _elementError;
    private bool _eventsSeen;

    private enum Stage
    {
        /// <summary>Before the first token.</summary>
        Start,

        /// <summary>In the root object, before a property name or its end.</summary>
        Root,

        /// <summary>In the <c>events</c> array, before an element or its end.</summary>
        Events,

        /// <summary>After the root value: only whitespace may follow.</summary>
        End,

        /// <summary>The body cannot be applied; the rest is read only to report malformed JSON first.</summary>
        Checking,
    }

    /// <summary>
    /// <see langword="true"/> once a non-final <see cref="Parse"/> met malformed JSON. The error is not reported from
    /// there: System.Text.Json's message quotes the text from the error to the end of what it was given, so it is
    /// reported by the final <see cref="Parse"/>, given the rest of the body, as a parser given the whole body reports it.
    /// </summary>
    public bool MalformedAhead { get; private set; }

    /// <summary>Parses as much of <paramref name="data"/> as is complete.</summary>
    /// <param name="data">The body's bytes from where the previous call stopped; valid UTF-8.</param>
    /// <param name="isFinalBlock">Whether <paramref name="data"/> ends the body.</param>
    /// <returns>How many bytes of <paramref name="data"/> were consumed; give the rest again with the next bytes.</returns>
    /// <exception cref="JsonException">The body is not well-formed JSON (final block only).</exception>
    public int Parse(ReadOnlySpan<byte> data, bool isFinalBlock)
    {
        var reader = new Utf8JsonReader(data, isFinalBlock, _state);
        while (true)
        {
            Utf8JsonReader checkpoint = reader;
            bool more;
            try
            {
                more = Step(ref reader);
            }
            catch (JsonException) when (!isFinalBlock)
            {
                // Units change this parser only once read whole, so the checkpoint is a clean place to resume from.
                MalformedAhead = true;
                _state = checkpoint.CurrentState;
                return (int)checkpoint.BytesConsumed;
            }

            if (!more)
            {
                // A unit (a property with its value, an event) is taken whole or not at all: one cut short is read
                // again from its start next time. A token-by-token pass keeps what it read.
                Utf8JsonReader stop = _stage is Stage.End or Stage.Checking ? reader : checkpoint;
                _state = stop.CurrentState;
                return (int)stop.BytesConsumed;
            }
        }
    }

    /// <summary>The parsed request, or the message of a 400 answer; call after the final <see cref="Parse"/>.</summary>
    public bool TryComplete([NotNullWhen(true)] out CollectRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        error = _rootError
            ?? (!_eventsSeen ? "The request body has no \"events\" array; expected {\"meta\": {...}, \"events\": [...]}." : null)
            ?? _eventsError ?? _metaError ?? _elementError;
        if (error is not null)
        {
            return false;
        }

        long expanded = _eventBytes;
        if (_meta is not null && !keepEventMetadata)
        {
            foreach (ExportableEvent item in _events)
            {
                if (item is FeatureEvent feature)
                {
                    feature.ReplaceMetadata(_meta);
                    expanded += _metaBytes;
                }
            }
        }

        request = new CollectRequest(_events, _rejected, expanded);
        return true;
    }

    /// <summary>Reads one unit (a token, a property with its value, an event); <see langword="false"/> when more data is needed.</summary>
    private bool Step(ref Utf8JsonReader reader)
    {
        switch (_stage)
        {
            case Stage.Start:
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    _stage = Stage.Root;
                }
                else
                {
                    _rootError = $"The request body must be a JSON object with an \"events\" array; got {JsonText.Describe(reader.TokenType)}.";
                    _stage = Stage.Checking;
                }

                return true;

            case Stage.Root:
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    _stage = Stage.End;
                    return true;
                }

                return ReadRootProperty(ref reader);

            case Stage.Events:
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    _stage = Stage.Root;
                    return true;
                }

                return ReadElement(ref reader);

            default:
                // End and Checking: the reader itself refuses anything but whitespace after the root value.
                while (reader.Read())
                {
                }

                return false;
        }
    }

    private bool ReadRootProperty(ref Utf8JsonReader reader)
    {
        bool events = JsonText.TextEquals(ref reader, "events"u8) || IsName(ref reader, "events");
        bool meta = !events && (JsonText.TextEquals(ref reader, "meta"u8) || IsName(ref reader, "meta"));
        if (!reader.Read())
        {
            return false;
        }

        if (events && reader.TokenType == JsonTokenType.StartArray)
        {
            // The last "events" wins: what an earlier one held is dropped.
            _eventsSeen = true;
            _eventsError = _elementError = null;
            _events = [];
            _rejected = [];
            _eventBytes = 0;
            _index = 0;
            _stage = Stage.Events;
            return true;
        }

        if (meta && reader.TokenType == JsonTokenType.StartObject)
        {
            long start = reader.TokenStartIndex;
            switch (FlagValueReader.ReadObject(ref reader, strings, build: !keepEventMetadata, out FlagObject? properties, out string? problem))
            {
                case JsonReadStatus.NeedMoreData:
                    return false;
                case JsonReadStatus.Invalid:
                    _meta = null;
                    _metaError = $"\"meta\" {problem}.";
                    return true;
                default:
                    _meta = properties;
                    _metaBytes = reader.BytesConsumed - start;
                    _metaError = null;
                    return true;
            }
        }

        JsonTokenType type = reader.TokenType;
        if (type is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
        {
            return false;
        }

        if (events)
        {
            _eventsSeen = true;
            _eventsError = $"\"events\" must be an array; got {JsonText.Describe(type)}.";
        }
        else if (meta)
        {
            _meta = null;
            _metaError = type == JsonTokenType.Null ? null : $"\"meta\" must be a JSON object; got {JsonText.Describe(type)}.";
        }

        return true;
    }

    private bool ReadElement(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject || _elementError is not null)
        {
            JsonTokenType type = reader.TokenType;
            if (type is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
            {
                return false;
            }

            _elementError ??= $"events[{_index}] must be a JSON object; got {JsonText.Describe(type)}.";
            _index++;
            return true;
        }

        long start = reader.TokenStartIndex;
        if (EventReader.Read(ref reader, strings, keepEventMetadata ? null : _meta, out ExportableEvent? item, out string? rejection) == JsonReadStatus.NeedMoreData)
        {
            return false;
        }

        if (item is not null)
        {
            _events.Add(item);
            _eventBytes += reader.BytesConsumed - start;
        }
        else
        {
            _rejected.Add(new(_index, rejection!));
        }

        _index++;
        return true;
    }

    /// <summary>Whether the current property name is <paramref name="name"/>, ignoring case as Go's decoder does.</summary>
    private static bool IsName(ref Utf8JsonReader reader, string name) =>
        !reader.ValueIsEscaped && !reader.HasValueSequence && System.Text.Ascii.IsValid(reader.ValueSpan)
            ? System.Text.Ascii.EqualsIgnoreCase(reader.ValueSpan, name)
            : JsonText.GetString(ref reader, null).Equals(name, StringComparison.OrdinalIgnoreCase);
}
