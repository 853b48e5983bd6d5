using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace FlagExport.Collector.Ingestion;

/// <summary>One event of a request that could not be converted, with the reason.</summary>
/// <param name="Index">The event's position in the <c>events</c> array.</param>
/// <param name="Reason">What is wrong with it, naming the field, never quoting its content beyond a short number.</param>
internal readonly record struct RejectedEvent(int Index, string Reason);

/// <summary>
/// A parsed <c>POST /v1/data/collector</c> body, <c>{"meta": {...}, "events": [...]}</c> as go-feature-flag's relay
/// proxy defines it: every event converted, or the reason it could not be.
/// </summary>
/// <remarks>
/// The whole body is checked before anything is handed to the exporters, so a request is either applied (minus the
/// events listed in <see cref="Rejected"/>) or refused with a message and changes nothing. Invalid UTF-8 is replaced
/// with U+FFFD, as Go's decoder does (one U+FFFD per maximal invalid subsequence, where Go may write one per byte).
/// </remarks>
internal sealed class CollectRequest
{
    /// <summary>The deepest nesting accepted, as System.Text.Json's default.</summary>
    internal const int MaxDepth = 64;

    private CollectRequest(List<ExportableEvent> events, List<RejectedEvent> rejected)
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
    public static bool TryParse(ReadOnlyMemory<byte> body, [NotNullWhen(true)] out CollectRequest? request, [NotNullWhen(false)] out string? error)
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
            error = $"The request body is not valid JSON: {exception.Message}";
            return false;
        }

        using (document)
        {
            return TryRead(document.RootElement, out request, out error);
        }
    }

    private static bool TryRead(JsonElement root, [NotNullWhen(true)] out CollectRequest? request, [NotNullWhen(false)] out string? error)
    {
        request = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = $"The request body must be a JSON object with an \"events\" array; got {JsonValues.Describe(root)}.";
            return false;
        }

        // Go's encoding/json matches "events" and "meta" case-insensitively and keeps the last of repeated names.
        JsonElement? events = null, meta = null;
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (JsonValues.NameEqualsIgnoreCase(property, "events"))
            {
                events = property.Value;
            }
            else if (JsonValues.NameEqualsIgnoreCase(property, "meta"))
            {
                meta = property.Value;
            }
        }

        if (events is not { ValueKind: JsonValueKind.Array } list)
        {
            error = events is null
                ? "The request body has no \"events\" array; expected {\"meta\": {...}, \"events\": [...]}."
                : $"\"events\" must be an array; got {JsonValues.Describe(events.Value)}.";
            return false;
        }

        FlagObject? metadata = null;
        if (meta is { ValueKind: not JsonValueKind.Null } metaElement
            && !JsonValues.TryConvertObject(metaElement, out error, out metadata))
        {
            error = $"\"meta\" {error}.";
            return false;
        }

        int index = 0;
        foreach (JsonElement element in list.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                error = $"events[{index}] must be a JSON object; got {JsonValues.Describe(element)}.";
                return false;
            }

            index++;
        }

        var converted = new List<ExportableEvent>(index);
        var rejected = new List<RejectedEvent>();
        index = 0;
        foreach (JsonElement element in list.EnumerateArray())
        {
            if (EventConverter.IsTracking(element))
            {
                if (EventConverter.TryConvertTracking(element, out TrackingEvent? tracking, out string? reason))
                {
                    converted.Add(tracking);
                }
                else
                {
                    rejected.Add(new(index, $"tracking event: {reason}"));
                }
            }
            else if (EventConverter.TryConvertFeature(element, metadata, out FeatureEvent? feature, out string? reason))
            {
                converted.Add(feature);
            }
            else
            {
                rejected.Add(new(index, $"feature event: {reason}"));
            }

            index++;
        }

        request = new CollectRequest(converted, rejected);
        error = null;
        return true;
    }
}
