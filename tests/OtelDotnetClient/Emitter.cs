using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace OtelDotnetClient;

/// <summary>
/// Emits scenario records as an application does: log records through <see cref="ILogger"/> with the attributes as
/// the state's key/value pairs, span events on activities of an <see cref="ActivitySource"/>.
/// </summary>
internal sealed class Emitter(ILoggerFactory loggerFactory, EmittedRecords emitted)
{
    public const string SourceName = "OtelDotnetClient.Evaluations";

    private static readonly ActivitySource Source = new(SourceName);

    private readonly ILogger _logger = loggerFactory.CreateLogger(SourceName);
    private Activity? _span;
    private int _spanNumber = -1;

    /// <summary>One log record; its event name is the <see cref="EventId"/>'s name.</summary>
    public void Log(ScenarioRecord record)
    {
        List<KeyValuePair<string, object?>> state = [.. record.Attributes.Select(a => new KeyValuePair<string, object?>(a.Key, a.ToObject()))];
        _logger.Log(LogLevel.Information, new EventId(0, record.Name), state, null, (_, _) => record.Body ?? "");
    }

    /// <summary>One span event, on a new span when the record's span number changes.</summary>
    public void SpanEvent(ScenarioRecord record)
    {
        if (record.Span != _spanNumber)
        {
            EndSpan();
            _span = Source.StartActivity("evaluate") ?? throw new InvalidOperationException("The tracer provider did not sample the span.");
            _spanNumber = record.Span;
        }

        DateTimeOffset time = DateTimeOffset.UtcNow;
        var tags = new ActivityTagsCollection(record.Attributes.Select(a => new KeyValuePair<string, object?>(a.Key, a.ToObject())));
        _ = _span!.AddEvent(new ActivityEvent(record.Name ?? "", time, tags));
        emitted.Add(time);
    }

    /// <summary>Ends the current span, which hands it to the exporter.</summary>
    public void EndSpan()
    {
        _span?.Dispose();
        _span = null;
    }
}
