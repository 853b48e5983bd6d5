using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlagExport.Collector;

/// <summary>The answer to <c>POST /v1/data/collector</c>, the relay proxy's plus two counts it does not give.</summary>
/// <param name="IngestedContentCount">Events converted and buffered by at least one exporter.</param>
/// <param name="RejectedContentCount">Events that could not be converted (wrong field types); omitted when zero.</param>
/// <param name="DroppedContentCount">Events converted but taken by no exporter (none has their type); omitted when zero.</param>
internal sealed record CollectResponse(int IngestedContentCount, int? RejectedContentCount, int? DroppedContentCount);

/// <summary>An error answer, shaped as the relay proxy's (Echo's) <c>{"message": "..."}</c>.</summary>
internal sealed record ErrorResponse(string Message);

/// <summary>The answer to <c>GET /health</c>, as the relay proxy's.</summary>
internal sealed record HealthResponse(bool Initialized);

/// <summary>The answer to <c>GET /health/ready</c>: 200 when every exporter can deliver, 503 naming those that cannot.</summary>
/// <param name="Status">The overall status: <c>Healthy</c>, <c>Degraded</c> or <c>Unhealthy</c>.</param>
/// <param name="Exporters">Every exporter, in configuration order.</param>
/// <param name="DurableBuffer">The durable buffer's fill; omitted when events are held in memory.</param>
internal sealed record ReadinessResponse(string Status, IReadOnlyList<ReadinessExporter> Exporters, ReadinessDurableBuffer? DurableBuffer);

/// <summary>One exporter in <see cref="ReadinessResponse"/>; <paramref name="Reasons"/> is empty when it is healthy.</summary>
internal sealed record ReadinessExporter(
    string Name,
    string Status,
    IReadOnlyList<string> Reasons,
    int ConsecutiveFailures,
    DateTimeOffset? LastSuccess,
    DateTimeOffset? FailingSince,
    long BufferedCount,
    long? MaxBufferedEvents,
    long DeadLetterBatchCount,
    long DeadLetteredCount);

/// <summary>The durable buffer in <see cref="ReadinessResponse"/>.</summary>
/// <param name="SizeBytes">The bytes it holds on disk.</param>
/// <param name="MaxBytes">The most it holds (<c>maxBufferBytes</c>).</param>
/// <param name="AppendError">Why its disk refuses writes now; omitted while writes succeed.</param>
/// <param name="LastAppendFailure">Why the last request was refused by the buffer (full, too large, disk error); omitted
/// when none was or one was accepted since.</param>
internal sealed record ReadinessDurableBuffer(long SizeBytes, long MaxBytes, string? AppendError, string? LastAppendFailure);

/// <summary>The answer to <c>GET /info</c>.</summary>
internal sealed record InfoResponse(string Name, string Version, string FlagExportVersion, DateTimeOffset StartedAt, IReadOnlyList<InfoExporter> Exporters);

/// <summary>One exporter in <see cref="InfoResponse"/>: no paths, buckets or other settings.</summary>
internal sealed record InfoExporter(string Name, string Kind, string Format, string EventType);

/// <summary>Source-generated serialization of the collector's answers (no reflection, AOT-friendly).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CollectResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(InfoResponse))]
[JsonSerializable(typeof(ReadinessResponse))]
internal sealed partial class CollectorJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context the endpoints write with: as <see cref="JsonSerializerContext"/>'s default, but escaping only what JSON
    /// requires, so that messages read as written (<c>'xml'</c>, not <c>\u0027xml\u0027</c>). The answers are
    /// application/json, never embedded in HTML.
    /// </summary>
    public static CollectorJsonContext Answers { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
