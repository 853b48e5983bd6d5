using System.Text.Json.Serialization;

namespace OtelDotnetClient;

/// <summary>
/// One record to emit: a log record (its event name is the <see cref="Microsoft.Extensions.Logging.EventId"/>'s name) or
/// a span event (named <see cref="Name"/>, on the span numbered <see cref="Span"/>).
/// </summary>
/// <param name="Name">The event name; <see langword="null"/> for a log record without one.</param>
/// <param name="Attributes">The attributes, in order, with their types.</param>
/// <param name="Span">Span events with the same number, one after another, share a span.</param>
/// <param name="Body">The log record's message.</param>
public sealed record ScenarioRecord(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("attributes")] ScenarioTag[] Attributes,
    [property: JsonPropertyName("span")] int Span = 0,
    [property: JsonPropertyName("body")] string? Body = null);
