using System.Diagnostics.Metrics;
using FlagExport.Durability;

namespace FlagExport.Collector;

/// <summary>
/// The collector's own instruments, on the meter <c>FlagExport.Collector</c>: events received by outcome, and the
/// <c>Idempotency-Key</c>s held, forgotten early and answered as duplicates. Requests by
/// status and duration come from ASP.NET Core's own meters; what the exporters write comes from the <c>FlagExport</c> meter.
/// </summary>
internal sealed class CollectorMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "FlagExport.Collector";

    /// <summary>The tag saying what became of the events: <c>ingested</c>, <c>rejected</c>, <c>dropped</c> or <c>ignored</c>.</summary>
    public const string OutcomeTag = "flagexport.collector.outcome";

    private static readonly KeyValuePair<string, object?> Ingested = new(OutcomeTag, "ingested");
    private static readonly KeyValuePair<string, object?> Rejected = new(OutcomeTag, "rejected");
    private static readonly KeyValuePair<string, object?> Dropped = new(OutcomeTag, "dropped");
    private static readonly KeyValuePair<string, object?> Ignored = new(OutcomeTag, "ignored");

    private readonly Counter<long> _events;

    public CollectorMetrics(IMeterFactory meterFactory, IdempotencyKeys keys)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(keys);
        Meter meter = meterFactory.Create(MeterName);
        _events = meter.CreateCounter<long>("flagexport.collector.events", "{event}", "Events received on /v1/data/collector and over OTLP, by outcome (ignored: OTLP log records and span events that are not feature-flag evaluations).");
        _ = meter.CreateObservableGauge("flagexport.collector.idempotency.keys", () => keys.Count, "{key}",
            "Idempotency-Keys remembered now (idempotencyKeyRetention, maxIdempotencyKeys).");
        _ = meter.CreateObservableCounter("flagexport.collector.idempotency.forgotten", () => keys.ForgottenInRetentionCount, "{key}",
            "Idempotency-Keys forgotten within their retention because maxIdempotencyKeys was reached: a retry of one would be kept again.");
        _ = meter.CreateObservableCounter("flagexport.collector.requests.duplicate", () => keys.DuplicateCount, "{request}",
            "Requests answered as a duplicate of an acknowledged one with the same Idempotency-Key and body (nothing kept).");
    }

    /// <summary>Records the outcome of one accepted request.</summary>
    public void Record(int ingested, int rejected, int dropped)
    {
        _events.Add(ingested, Ingested);
        if (rejected > 0)
        {
            _events.Add(rejected, Rejected);
        }

        if (dropped > 0)
        {
            _events.Add(dropped, Dropped);
        }
    }

    /// <summary>Records OTLP log records and span events that are not feature-flag evaluations.</summary>
    public void RecordIgnored(int ignored)
    {
        if (ignored > 0)
        {
            _events.Add(ignored, Ignored);
        }
    }
}
