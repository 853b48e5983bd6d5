namespace FlagExport.Collector.Ingestion;

/// <summary>One event of a request that could not be converted, with the reason.</summary>
/// <param name="Index">The event's position in the <c>events</c> array.</param>
/// <param name="Reason">What is wrong with it, naming the field, never quoting its content beyond a short number.</param>
internal readonly record struct RejectedEvent(int Index, string Reason);

/// <summary>
/// A parsed <c>POST /v1/data/collector</c> body, <c>{"meta": {...}, "events": [...]}</c> as go-feature-flag's relay
/// proxy defines it: every event converted, or the reason it could not be.
/// </summary>
internal sealed class CollectRequest(List<ExportableEvent> events, List<RejectedEvent> rejected, long expandedBytes)
{
    /// <summary>
    /// What the request expands to once written, estimated from its bytes: each converted event's bytes as sent, plus
    /// the request's <c>meta</c> bytes once per feature event (each carries it as its metadata).
    /// </summary>
    public long ExpandedBytes { get; } = expandedBytes;

    /// <summary>The converted events, in request order.</summary>
    public IReadOnlyList<ExportableEvent> Events { get; } = events;

    /// <summary>The events that could not be converted.</summary>
    public IReadOnlyList<RejectedEvent> Rejected { get; } = rejected;
}
