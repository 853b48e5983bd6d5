using System.Buffers;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// <c>POST /v1/data/collector</c>: checks the API key (401), the content type and encoding (415), the size (413) and the
/// body (400), then hands every converted event to <see cref="IFlagEventSink"/>.
/// </summary>
/// <remarks>
/// Nothing reaches the exporters before the whole body has been read and checked, so a refused request changes nothing.
/// The body is read into a pooled buffer up to the configured limit, whatever the Content-Length says; for a compressed
/// body the limit counts the decompressed bytes, so a small compressed body cannot expand past it.
/// </remarks>
internal sealed class CollectEndpoint(
    CollectorSettings settings,
    ApiKeyValidator apiKeys,
    IFlagEventSink sink,
    ExporterPipelines pipelines,
    CollectorMetrics metrics,
    ILogger<CollectEndpoint> logger)
{
    /// <summary>The path, as the relay proxy serves it.</summary>
    public const string Path = "/v1/data/collector";

    /// <summary>The first read buffer: 64 KiB, grown by doubling up to the body limit.</summary>
    private const int InitialBufferSize = 64 * 1024;

    private readonly bool _hasTrackingExporter = settings.Exporters.Any(e => e.Pipeline.EventType == EventType.Tracking);
    private int _noTrackingExporterLogged;

    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (!apiKeys.IsAuthorized(request))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized,
                "A valid API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.").ConfigureAwait(false);
            return;
        }

        if (!request.HasJsonContentType())
        {
            string given = string.IsNullOrEmpty(request.ContentType) ? "none" : $"'{request.ContentType}'";
            await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType,
                $"The request body must be JSON with Content-Type: application/json; got {given}.").ConfigureAwait(false);
            return;
        }

        // The decompression middleware removes the header of the encodings it decodes (gzip, br, deflate).
        string? encoding = request.Headers.ContentEncoding;
        if (!string.IsNullOrEmpty(encoding) && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType,
                $"Content-Encoding '{encoding}' is not supported; send the body as is, or compressed with gzip, br or deflate.").ConfigureAwait(false);
            return;
        }

        long limit = settings.MaxRequestBodySize;
        if (request.ContentLength > limit)
        {
            await RefuseTooLargeAsync(context, limit).ConfigureAwait(false);
            return;
        }

        // Kestrel's own limit (30 MB by default) is raised to ours by routing, from the endpoint's RequestSizeLimit
        // metadata; ours is enforced while reading below.
        // Start small and grow as bytes arrive: a client claiming a large Content-Length and sending slowly must not
        // hold a large buffer it has not filled.
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(request.ContentLength ?? InitialBufferSize, InitialBufferSize), limit) + 1);
        try
        {
            int length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                }
                catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    await RefuseTooLargeAsync(context, limit).ConfigureAwait(false);
                    return;
                }
                catch (Exception exception) when (exception is InvalidDataException || (exception is InvalidOperationException && exception.Source?.StartsWith("System.IO.Compression", StringComparison.Ordinal) == true))
                {
                    // The decompression middleware reads lazily: a corrupt gzip or deflate body fails here with
                    // InvalidDataException, a corrupt br body with InvalidOperationException from BrotliStream.
                    await RefuseAsync(context, StatusCodes.Status400BadRequest,
                        "The request body does not decompress as its Content-Encoding says.").ConfigureAwait(false);
                    return;
                }

                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    await RefuseTooLargeAsync(context, limit).ConfigureAwait(false);
                    return;
                }
            }

            if (!CollectRequest.TryParse(buffer.AsMemory(0, length), out CollectRequest? parsed, out string? error))
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
                return;
            }

            CollectResponse? response = pipelines.DurableBuffer is null ? Apply(parsed) : await ApplyDurablyAsync(context, parsed).ConfigureAwait(false);
            if (response is not null)
            {
                await context.Response.WriteAsJsonAsync(response, CollectorJsonContext.Answers.CollectResponse).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// With the durable buffer: appends the request's events and answers only once they are on disk (concurrent requests
    /// share one fsync). A full buffer appends nothing and answers 503 with Retry-After, so the client keeps the events
    /// and sends them again: nothing is dropped and nothing doubled.
    /// </summary>
    /// <returns>The answer, or null when a refusal was written.</returns>
    private async Task<CollectResponse?> ApplyDurablyAsync(HttpContext context, CollectRequest request)
    {
        int appended;
        try
        {
            appended = await pipelines.TryAppendDurableAsync(request.Events, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // A disk failure stops the log for good; disposed while stopping. Either way nothing was acknowledged.
            logger.DurableBufferFailed(exception);
            context.Response.Headers.RetryAfter = RetryAfterSeconds;
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable,
                "The durable buffer could not write the events to disk; nothing was acknowledged, send them again later.").ConfigureAwait(false);
            return null;
        }

        if (appended < 0)
        {
            metrics.Record(0, request.Rejected.Count, 0);
            context.Response.Headers.RetryAfter = RetryAfterSeconds;
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable,
                $"The durable buffer is full (maxBufferBytes = {pipelines.DurableBuffer!.MaxBytes}); nothing was accepted, send the events again later.").ConfigureAwait(false);
            return null;
        }

        return Report(request, ingested: appended, dropped: 0, droppedTracking: request.Events.Count - appended);
    }

    /// <summary>The seconds a client refused with 503 is told to wait before sending again.</summary>
    private const string RetryAfterSeconds = "5";

    private CollectResponse Apply(CollectRequest request)
    {
        int ingested = 0, dropped = 0, droppedTracking = 0;
        foreach (ExportableEvent exportable in request.Events)
        {
            if (sink.Add(exportable))
            {
                ingested++;
            }
            else if (exportable is TrackingEvent && !_hasTrackingExporter)
            {
                droppedTracking++;
            }
            else
            {
                dropped++;
            }
        }

        return Report(request, ingested, dropped, droppedTracking);
    }

    private CollectResponse Report(CollectRequest request, int ingested, int dropped, int droppedTracking)
    {
        int rejected = request.Rejected.Count;
        if (rejected > 0)
        {
            RejectedEvent first = request.Rejected[0];
            logger.EventsRejected(rejected, rejected + request.Events.Count, first.Index, first.Reason);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                foreach (RejectedEvent item in request.Rejected)
                {
                    logger.EventRejected(item.Index, item.Reason);
                }
            }
        }

        if (droppedTracking > 0 && Interlocked.Exchange(ref _noTrackingExporterLogged, 1) == 0)
        {
            logger.NoTrackingExporter();
        }

        if (dropped > 0)
        {
            logger.EventsNotBuffered(dropped);
        }

        dropped += droppedTracking;
        metrics.Record(ingested, rejected, dropped);
        return new CollectResponse(ingested, rejected > 0 ? rejected : null, dropped > 0 ? dropped : null);
    }

    private Task RefuseTooLargeAsync(HttpContext context, long limit) =>
        RefuseAsync(context, StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than the limit of {limit} bytes (maxRequestBodySize).");

    private async Task RefuseAsync(HttpContext context, int statusCode, string message)
    {
        logger.RequestRefused(statusCode, message);
        context.Response.StatusCode = statusCode;
        await context.Response.WriteAsJsonAsync(new ErrorResponse(message), CollectorJsonContext.Answers.ErrorResponse).ConfigureAwait(false);
    }
}
