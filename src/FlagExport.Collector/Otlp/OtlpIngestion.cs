using FlagExport.Collector.Configuration;
using FlagExport.Collector.Ingestion;
using FlagExport.Json;
using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// The OTLP receiver's one way in, for OTLP/HTTP and gRPC alike: reads a whole request's flag evaluations and keeps them
/// through <see cref="IEventIntake"/>, all or nothing, exactly as <c>/v1/data/collector</c> keeps its events (in memory,
/// or on disk before the answer).
/// </summary>
/// <remarks>
/// Refusals map onto OTLP's retry rules: what a retry can cure (no room, the disk refused the write) is
/// <see cref="OtlpOutcomeKind.Unavailable"/>, which OTLP exporters retry after <see cref="RetryDelay"/>; what it cannot
/// (a malformed body, a request beyond the limits) is refused for good. Evaluations without a key are reported in
/// <c>partial_success</c>, never retried.
/// </remarks>
internal sealed class OtlpIngestion(
    CollectorSettings settings,
    IEventIntake intake,
    CollectorMetrics metrics,
    TimeProvider time,
    ILogger<OtlpIngestion> logger)
{
    /// <summary>How long a client refused as unavailable is asked to wait (Retry-After, RetryInfo).</summary>
    /// <remarks>
    /// Shorter than <c>/v1/data/collector</c>'s 5 s: OTLP exporters that retry do so only within their export timeout
    /// (10 s by default), so 2 s gives them four attempts in that time where 5 s gives one. A refusal for lack of room
    /// costs the collector next to nothing, so the extra attempts are cheap.
    /// </remarks>
    public static TimeSpan RetryDelay { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Shared by all requests: the attribute names, flag keys and variations that recur across them.</summary>
    private readonly Utf8StringCache _strings = new();
    private readonly NoRoomEpisode _noRoom = new(logger);

    /// <summary>
    /// The refusal any request would get now for lack of room, asked before its body is read (see
    /// <see cref="IEventIntake.NoRoomRefusal"/>); null when a request may be kept.
    /// </summary>
    public string? NoRoomRefusal()
    {
        string? refusal = intake.NoRoomRefusal();
        if (refusal is not null)
        {
            _noRoom.Refused(refusal);
        }

        return refusal;
    }

    /// <summary>Reads and keeps one request.</summary>
    /// <param name="signal">Logs or traces.</param>
    /// <param name="encoding">The body's encoding.</param>
    /// <param name="body">The whole body, decompressed, within maxRequestBodySize.</param>
    /// <param name="cancellationToken">The request's: stops waiting for the disk, and then nothing is acknowledged.</param>
    public async ValueTask<OtlpOutcome> ExportAsync(OtlpSignal signal, OtlpEncoding encoding, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        OtlpExport export;
        try
        {
            var builder = new OtlpEventBuilder(_strings, time);
            export = encoding == OtlpEncoding.Protobuf
                ? OtlpProtobufReader.Read(signal, body.Span, builder)
                : OtlpJsonReader.Read(signal, body.Span, builder);
        }
        catch (OtlpFormatException malformed)
        {
            return Refuse(signal, OtlpOutcomeKind.Malformed, malformed.Message);
        }

        if (export.ExpandedBytes > settings.MaxRequestExpandedBytes)
        {
            return Refuse(signal, OtlpOutcomeKind.TooLarge,
                $"The request's feature-flag evaluations expand to {export.ExpandedBytes} bytes of events (each with its resource's service.name), more than the limit of {settings.MaxRequestExpandedBytes} bytes (maxRequestExpandedBytes); nothing was accepted, send fewer records per request.");
        }

        int ingested = 0, notExported = 0;
        if (export.Events.Count > 0)
        {
            EventIntakeResult result = await intake.AcceptAsync(export.Events, cancellationToken).ConfigureAwait(false);
            switch (result.Outcome)
            {
                case EventIntakeOutcome.Accepted:
                    _noRoom.Accepted();
                    (ingested, notExported) = (result.Accepted, result.NotExported);
                    break;
                case EventIntakeOutcome.TooLarge:
                    return Refuse(signal, OtlpOutcomeKind.TooLarge, result.Refusal!);
                case EventIntakeOutcome.Full:
                    _noRoom.Refused(result.Refusal!);
                    return new(OtlpOutcomeKind.Unavailable, 0, result.Refusal);
                default:
                    if (result.Failure is { } failure)
                    {
                        logger.DurableBufferFailed(failure);
                    }

                    return Refuse(signal, OtlpOutcomeKind.Unavailable, result.Refusal!);
            }
        }

        metrics.Record(ingested, export.Rejected, notExported);
        metrics.RecordIgnored(export.Ignored);
        if (export.Rejected == 0)
        {
            return new(OtlpOutcomeKind.Accepted, 0, null);
        }

        logger.EvaluationsRejected(export.Rejected, signal, export.FirstRejection!);
        return new(OtlpOutcomeKind.Accepted, export.RejectedItems,
            $"{export.Rejected} feature_flag.evaluation {(signal == OtlpSignal.Logs ? "records" : "span events")} without feature_flag.key were rejected; the first: {export.FirstRejection}.");
    }

    private OtlpOutcome Refuse(OtlpSignal signal, OtlpOutcomeKind kind, string reason)
    {
        logger.RequestRefused(signal, kind, reason);
        return new(kind, 0, reason);
    }
}
