using System.Text.Json.Nodes;

namespace FlagExport.Collector.Tests.Otlp.DotnetClient;

/// <summary>
/// A record the test application emits: a log record whose <c>EventId</c> name is <see cref="Name"/>, or a span event
/// named <see cref="Name"/> on the span numbered <see cref="Span"/>; the application's scenario file holds these.
/// </summary>
/// <param name="Name">The event name; <see langword="null"/> for a log record without one.</param>
/// <param name="Tags">The attributes, in order, with the .NET type each is given to the SDK as.</param>
/// <param name="Span">Consecutive span events with the same number share a span.</param>
/// <param name="Body">The log record's message.</param>
/// <param name="TimeUnixNano">The time the SDK gave the record, once emitted (what the application printed).</param>
internal sealed record ScenarioRecord(string? Name, IReadOnlyList<Tag> Tags, int Span = 0, string? Body = null, long TimeUnixNano = 0)
{
    /// <summary>The value of the attribute named <paramref name="key"/>, or null.</summary>
    public JsonNode? this[string key] => Tags.LastOrDefault(t => t.Key == key)?.Value;

    /// <summary>The record as the application's scenario file writes it.</summary>
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["attributes"] = new JsonArray([.. Tags.Select(t => new JsonObject { ["key"] = t.Key, ["type"] = t.Type, ["value"] = t.Value.DeepClone() })]),
        ["span"] = Span,
        ["body"] = Body,
    };
}
