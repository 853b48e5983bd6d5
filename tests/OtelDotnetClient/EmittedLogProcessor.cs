using OpenTelemetry;
using OpenTelemetry.Logs;

namespace OtelDotnetClient;

/// <summary>
/// Notes the timestamp the SDK gave each log record (taken when the record is created, inside the logging call), which
/// the OTLP exporter sends as its time. The host's own log records (start-up, shutdown) are exported too, as records
/// that are not flag evaluations, but are not scenario records.
/// </summary>
internal sealed class EmittedLogProcessor(EmittedRecords emitted) : BaseProcessor<LogRecord>
{
    public override void OnEnd(LogRecord data)
    {
        if (data.CategoryName == Emitter.SourceName)
        {
            emitted.Add(new DateTimeOffset(data.Timestamp, TimeSpan.Zero));
        }
    }
}
