using System.Buffers;
using System.Security.Cryptography;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Security;
using FlagExport.Durability;
using FlagExport.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace FlagExport.Collector.Ingestion;

/// <summary>
/// <c>POST /v1/data/collector</c>: checks the API key (401), the content type and encoding (415), the size (413) and the
/// body (400), then hands every converted event to <see cref="IFlagEventSink"/>.
/// </summary>
/// <remarks>
/// Nothing reaches the exporters before the whole body has been read and checked, so a refused request changes nothing.
/// When no exporter has room for even one event, the request is refused with 503 before its body is read or parsed
/// (<see cref="IEventIntake.NoRoomRefusal"/>): under overload, refusing costs next to nothing, and the CPU goes to the
/// export that makes room; Kestrel reads and discards the unread body so the connection stays usable.
/// The body is parsed as it arrives (<see cref="CollectBodyReader"/>) up to the configured limit, whatever the
/// Content-Length says; for a compressed body the limit counts the decompressed bytes.
/// A request with <c>Idempotency-Key</c> is kept at most once per sender, key and body (<see cref="IdempotencyKeys"/>):
/// a retry of an acknowledged one is answered as it was, adding nothing. Requests without the header pay one header
/// lookup for it.
/// </remarks>
internal sealed class CollectEndpoint(
    CollectorSettings settings,
    ApiKeyValidator apiKeys,
    IEventIntake intake,
    CollectorMetrics metrics,
    IdempotencyKeys idempotencyKeys,
    ILogger<CollectEndpoint> logger)
{
    /// <summary>The path, as the relay proxy serves it.</summary>
    public const string Path = "/v1/data/collector";

    private readonly WebhookSignature? _webhook = settings.WebhookSecret is { } secret ? new WebhookSignature(secret) : null;
    private readonly SenderScope _scope = new(apiKeys, settings.WebhookSecret);

    /// <summary>Shared by all requests: the flag keys, variations and metadata names that recur across events.</summary>
    private readonly Utf8StringCache _strings = new();
    private int _noTrackingExporterLogged;
    private readonly NoRoomEpisode _noRoom = new(logger);

    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        byte[]? claimedSignature = null;
        if (!IsAuthorized(request, ref claimedSignature))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, _webhook is null
                ? "A valid API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
                : $"A valid API key ('Authorization: Bearer <key>' or 'X-API-Key: <key>') or a {WebhookSignature.Header} signature of the body (webhookSecret) is required.").ConfigureAwait(false);
            return;
        }

        if (claimedSignature is null)
        {
            await HandleAuthorizedAsync(context, bySignature: false).ConfigureAwait(false);
            return;
        }

        // A request admitted only by its signature is verified before anything else, parsing included: its body is read
        // (within the limit, building no events) and hashed first, then parsed from memory.
        using IncrementalHash signature = _webhook!.Start();
        (byte[]? body, int length, CollectBody refusal) = await CollectBodyReader.ReadWholeAsync(request, settings.MaxRequestBodySize, signature, ArrayPool<byte>.Shared, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await RefuseAsync(context, refusal).ConfigureAwait(false);
            return;
        }

        try
        {
            if (!WebhookSignature.Matches(signature, claimedSignature))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await RefuseAsync(context, StatusCodes.Status401Unauthorized,
                    $"The {WebhookSignature.Header} signature does not match the body (webhookSecret).").ConfigureAwait(false);
                return;
            }

            request.Body = new MemoryStream(body, 0, length, writable: false);
            await HandleAuthorizedAsync(context, bySignature: true).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>Handles a request whose sender is admitted (<paramref name="bySignature"/>: by webhookSecret): content checks, the body, the events.</summary>
    private async Task HandleAuthorizedAsync(HttpContext context, bool bySignature)
    {
        HttpRequest request = context.Request;
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
            await RefuseAsync(context, CollectBodyReader.TooLarge(limit)).ConfigureAwait(false);
            return;
        }

        string? idempotencyKey = null;
        if (request.Headers.TryGetValue(IdempotencyKeys.Header, out StringValues keyValues))
        {
            if (InvalidKey(keyValues) is { } invalid)
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest, invalid).ConfigureAwait(false);
                return;
            }

            idempotencyKey = keyValues[0];
        }

        // Answered as AcceptAsync would answer a full buffer, without the parse it would waste.
        if (intake.NoRoomRefusal() is { } noRoom)
        {
            await RefuseForLackOfRoomAsync(context, noRoom).ConfigureAwait(false);
            return;
        }

        // Kestrel's own limit (30 MB by default) is raised to ours by routing, from the endpoint's RequestSizeLimit
        // metadata; ours is enforced while reading.
        using IncrementalHash? bodyHash = idempotencyKey is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var parser = new CollectRequestParser(_strings, keepEventMetadata: KeepsEventMetadata(request));
        CollectBody body = await CollectBodyReader.ReadAsync(request, limit, parser, bodyHash, context.RequestAborted).ConfigureAwait(false);

        if (body.Request is not { } parsed)
        {
            await RefuseAsync(context, body).ConfigureAwait(false);
            return;
        }

        if (parsed.ExpandedBytes > settings.MaxRequestExpandedBytes)
        {
            // Refused whole, before anything is kept: a retry cannot cure it, the client must send less per request.
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge,
                $"The request expands to {parsed.ExpandedBytes} bytes of events (each event with the request's meta as its metadata), more than the limit of {settings.MaxRequestExpandedBytes} bytes (maxRequestExpandedBytes); nothing was accepted, send fewer events per request or a smaller meta.").ConfigureAwait(false);
            return;
        }

        CollectResponse? response = idempotencyKey is null
            ? await ApplyAsync(context, parsed, claim: null).ConfigureAwait(false)
            : await ApplyOnceAsync(context, parsed, _scope.Of(request, bySignature), idempotencyKey, Convert.ToHexStringLower(bodyHash!.GetHashAndReset())).ConfigureAwait(false);
        if (response is not null)
        {
            await context.Response.WriteAsJsonAsync(response, CollectorJsonContext.Answers.CollectResponse).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Without <c>webhookSecret</c>, the API key decides. With it, a configured API key still admits a request; otherwise
    /// the request must claim a signature, checked once its body is read.
    /// </summary>
    private bool IsAuthorized(HttpRequest request, ref byte[]? claimedSignature)
    {
        if (_webhook is null)
        {
            return apiKeys.IsAuthorized(request);
        }

        if (apiKeys.IsRequired && apiKeys.IsAuthorized(request))
        {
            return true;
        }

        claimedSignature = WebhookSignature.Claimed(request);
        return claimedSignature is not null;
    }

    /// <summary>
    /// Whether the sender asks that each event keep its own metadata (FlagExport's webhook exporter does, see
    /// <see cref="WebhookExporter.EventMetadataHeader"/>); any other request gets go-feature-flag's rule, <c>meta</c>
    /// replacing it.
    /// </summary>
    private static bool KeepsEventMetadata(HttpRequest request) =>
        request.Headers.TryGetValue(WebhookExporter.EventMetadataHeader, out StringValues values)
        && values.Count == 1
        && string.Equals(values[0], WebhookExporter.OwnEventMetadata, StringComparison.OrdinalIgnoreCase);

    /// <summary>The seconds a client refused with 503 is told to wait before sending again.</summary>
    private const string RetryAfterSeconds = "5";

    /// <summary>
    /// Keeps the request's events all or nothing, in memory or on disk (the intake answers once they are kept as the mode
    /// promises). When they cannot be kept now (no room, the disk refused the write, stopping), nothing is kept and the
    /// answer is 503 with Retry-After, so the client keeps the events and sends them again: nothing is dropped and nothing
    /// doubled; a request that can never be kept is refused with 413, which a retry cannot cure.
    /// </summary>
    /// <param name="context">The request's context.</param>
    /// <param name="request">The parsed request.</param>
    /// <param name="claim">The request's new <c>Idempotency-Key</c>, kept with the events (same group commit) and settled as accepted with them; null without one.</param>
    /// <returns>The answer, or null when a refusal was written.</returns>
    private async Task<CollectResponse?> ApplyAsync(HttpContext context, CollectRequest request, IdempotencyClaim? claim)
    {
        IdempotencyRecord? key = claim?.Record(request.Events.Count, idempotencyKeys.TimeProvider.GetUtcNow());
        EventIntakeResult result = await intake.AcceptAsync(request.Events, key, context.RequestAborted).ConfigureAwait(false);
        if (result.Outcome == EventIntakeOutcome.Accepted)
        {
            _noRoom.Accepted();
            claim?.Accepted(key! with { EventCount = result.Accepted });
            return Report(request, ingested: result.Accepted, droppedTracking: result.NotExported);
        }

        metrics.Record(0, request.Rejected.Count, 0);
        if (result.Outcome == EventIntakeOutcome.TooLarge)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, result.Refusal!).ConfigureAwait(false);
            return null;
        }

        if (result.Outcome == EventIntakeOutcome.Full)
        {
            await RefuseForLackOfRoomAsync(context, result.Refusal!).ConfigureAwait(false);
            return null;
        }

        if (result.Failure is { } failure)
        {
            logger.DurableBufferFailed(failure);
        }

        context.Response.Headers.RetryAfter = RetryAfterSeconds;
        await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, result.Refusal!).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// <see cref="ApplyAsync"/> for a request with <c>Idempotency-Key</c>: once per sender <paramref name="scope"/>, key
    /// and body. Waits while a request with the same scope and key is being kept; a retry of an acknowledged request is
    /// answered with its count, keeping nothing; the key reused for another body is refused with 422.
    /// </summary>
    private async Task<CollectResponse?> ApplyOnceAsync(HttpContext context, CollectRequest request, string scope, string key, string bodyHash)
    {
        using IdempotencyClaim claim = await idempotencyKeys.ClaimAsync(scope, key, bodyHash, context.RequestAborted).ConfigureAwait(false);
        switch (claim.Outcome)
        {
            case IdempotencyClaimOutcome.Duplicate:
                logger.DuplicateRequest(key, claim.Known!.EventCount, claim.Known.ArrivalTime);
                return new CollectResponse(claim.Known.EventCount, null, null);
            case IdempotencyClaimOutcome.Conflict:
                await RefuseAsync(context, StatusCodes.Status422UnprocessableEntity,
                    $"The {IdempotencyKeys.Header} '{key}' was used for a different body at {claim.Known!.ArrivalTime:O}; nothing was accepted. A new body needs a new key (keys are remembered for idempotencyKeyRetention).").ConfigureAwait(false);
                return null;
            default:
                // Disposing the claim unaccepted (refused, or an exception) lets a waiting retry proceed as new.
                return await ApplyAsync(context, request, claim).ConfigureAwait(false);
        }
    }

    /// <summary>Why the <c>Idempotency-Key</c> header is not one key (400), or null when it is.</summary>
    private static string? InvalidKey(StringValues values)
    {
        if (values.Count != 1)
        {
            return $"The {IdempotencyKeys.Header} header must be sent once; got {values.Count} values.";
        }

        string value = values[0] ?? "";
        return IdempotencyKeys.IsValidKey(value) ? null
            : $"The {IdempotencyKeys.Header} header must be 1 to {IdempotencyKeys.MaxKeyLength} printable ASCII characters; got {value.Length} characters{(value.Length > 0 && value.Length <= IdempotencyKeys.MaxKeyLength ? " with one outside printable ASCII" : "")}.";
    }

    /// <summary>503 with Retry-After, logged once per episode (<see cref="NoRoomEpisode"/>) rather than per request.</summary>
    private async Task RefuseForLackOfRoomAsync(HttpContext context, string message)
    {
        _noRoom.Refused(message);
        context.Response.Headers.RetryAfter = RetryAfterSeconds;
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        await context.Response.WriteAsJsonAsync(new ErrorResponse(message), CollectorJsonContext.Answers.ErrorResponse).ConfigureAwait(false);
    }

    private CollectResponse Report(CollectRequest request, int ingested, int droppedTracking)
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

        metrics.Record(ingested, rejected, droppedTracking);
        return new CollectResponse(ingested, rejected > 0 ? rejected : null, droppedTracking > 0 ? droppedTracking : null);
    }

    private Task RefuseAsync(HttpContext context, CollectBody refusal) => RefuseAsync(context, refusal.StatusCode, refusal.Error!);

    private async Task RefuseAsync(HttpContext context, int statusCode, string message)
    {
        logger.RequestRefused(statusCode, message);
        context.Response.StatusCode = statusCode;
        await context.Response.WriteAsJsonAsync(new ErrorResponse(message), CollectorJsonContext.Answers.ErrorResponse).ConfigureAwait(false);
    }
}
