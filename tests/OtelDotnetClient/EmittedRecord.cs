using System.Text.Json.Serialization;

namespace OtelDotnetClient;

/// <summary>What the client prints for each record it emitted, in order: the time the SDK exports with it.</summary>
/// <param name="TimeUnixNano">The log record's timestamp or the span event's time, in nanoseconds since the Unix epoch.</param>
public sealed record EmittedRecord([property: JsonPropertyName("timeUnixNano")] long TimeUnixNano);
