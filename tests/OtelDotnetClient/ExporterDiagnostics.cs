using System.Diagnostics.Tracing;

namespace OtelDotnetClient;

/// <summary>
/// The OTLP exporter's own warnings and errors (failed or retried exports), written to standard error so that a test
/// that fails shows what the SDK saw.
/// </summary>
internal sealed class ExporterDiagnostics : EventListener
{
    private const string SourceName = "OpenTelemetry-Exporter-OpenTelemetryProtocol";
    private int _warnings;

    public int Warnings => Volatile.Read(ref _warnings);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == SourceName)
        {
            EnableEvents(eventSource, EventLevel.Warning);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.Level > EventLevel.Warning)
        {
            return;
        }

        _ = Interlocked.Increment(ref _warnings);
        string payload = eventData.Payload is null ? "" : string.Join(" | ", eventData.Payload);
        Console.Error.WriteLine($"{eventData.EventSource.Name} {eventData.Level} {eventData.EventName}: {payload}");
    }
}
