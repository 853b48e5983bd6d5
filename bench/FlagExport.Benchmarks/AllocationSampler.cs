using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace FlagExport.Benchmarks;

/// <summary>
/// The runtime's allocation samples (GCAllocationTick: one per ~100 KB allocated, naming the type that crossed the mark)
/// counted by type, for finding what a hot path allocates without an outside profiler.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly ConcurrentDictionary<string, int> _samples = new(StringComparer.Ordinal);

    /// <summary>Each sampled type with its share of the samples, most first.</summary>
    public IEnumerable<(string Type, double Share)> Shares()
    {
        double total = Math.Max(1, _samples.Values.Sum());
        return _samples.OrderByDescending(s => s.Value).Select(s => (s.Key, s.Value / total));
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true
            && eventData.PayloadNames?.IndexOf("TypeName") is int index and >= 0
            && eventData.Payload?[index] is string type)
        {
            _ = _samples.AddOrUpdate(type, 1, (_, n) => n + 1);
        }
    }
}
