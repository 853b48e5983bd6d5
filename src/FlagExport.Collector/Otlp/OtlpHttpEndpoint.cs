using System.Buffers;
using FlagExport.Collector.Configuration;
using FlagExport.Collector.Ingestion;
using FlagExport.Collector.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// OTLP/HTTP: <c>POST /v1/logs</c> and <c>POST /v1/traces</c> on the collector's own address, in binary protobuf
/// (<c>application/x-protobuf</c>) or OTLP/JSON (<c>application/json</c>), compressed or not.
/// </summary>
/// <remarks>
/// Checked as <c>/v1/data/collector</c> is, in the same order: the API key (401), the content type and encoding (415), the
/// size (413, counting decompressed bytes), room (503 before the body is read), then the body. Answers follow OTLP/HTTP: a
/// success is 200 with an export response (empty, or with <c>partial_success</c>), a failure carries a
/// <c>google.rpc.Status</c>, both in the request's encoding; 503 carries Retry-After, which OTLP exporters honour.
/// </remarks>
internal sealed class OtlpHttpEndpoint(CollectorSettings settings, ApiKeyValidator apiKeys, OtlpIngestion ingestion, ILogger<OtlpHttpEndpoint> logger)
{
    /// <summary>The OTLP/HTTP path of logs.</summary>
    public const string LogsPath = "/v1/logs";

    /// <summary>The OTLP/HTTP path of traces.</summary>
    public const string TracesPath = "/v1/traces";

    /// <summary>Handles one request of <paramref name="signal"/>.</summary>
    public async Task HandleAsync(HttpContext context, OtlpSignal signal)
    {
        HttpRequest request = context.Request;
        OtlpEncoding? encoding = EncodingOf(request.ContentType);
        if (!apiKeys.IsAuthorized(request))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, encoding ?? OtlpEncoding.Json, StatusCodes.Status401Unauthorized, OtlpMessages.Unauthenticated,
                "A valid API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.").ConfigureAwait(false);
            return;
        }

        if (encoding is not { } format)
        {
            string given = string.IsNullOrEmpty(request.ContentType) ? "none" : $"'{request.ContentType}'";
            await RefuseAsync(context, OtlpEncoding.Json, StatusCodes.Status415UnsupportedMediaType, OtlpMessages.InvalidArgument,
                $"An OTLP request body must be Content-Type: application/x-protobuf or application/json; got {given}.").ConfigureAwait(false);
            return;
        }

        // The decompression middleware removes the header of the encodings it decodes (gzip, br, deflate).
        string? contentEncoding = request.Headers.ContentEncoding;
        if (!string.IsNullOrEmpty(contentEncoding) && !contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(context, format, StatusCodes.Status415UnsupportedMediaType, OtlpMessages.InvalidArgument,
                $"Content-Encoding '{contentEncoding}' is not supported; send the body as is, or compressed with gzip, br or deflate.").ConfigureAwait(false);
            return;
        }

        long limit = settings.MaxRequestBodySize;
        if (request.ContentLength > limit)
        {
            CollectBody tooLarge = CollectBodyReader.TooLarge(limit);
            await RefuseAsync(context, format, tooLarge.StatusCode, OtlpMessages.InvalidArgument, tooLarge.Error!).ConfigureAwait(false);
            return;
        }

        if (ingestion.NoRoomRefusal() is { } noRoom)
        {
            await RefuseAsync(context, format, StatusCodes.Status503ServiceUnavailable, OtlpMessages.Unavailable, noRoom).ConfigureAwait(false);
            return;
        }

        // Protobuf cannot be read before its length-delimited fields are whole, so the body is read whole (within the limit).
        (byte[]? body, int length, CollectBody refusal) = await CollectBodyReader.ReadWholeAsync(request, limit, hash: null, ArrayPool<byte>.Shared, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await RefuseAsync(context, format, refusal.StatusCode, OtlpMessages.InvalidArgument, refusal.Error!).ConfigureAwait(false);
            return;
        }

        OtlpOutcome outcome;
        try
        {
            outcome = await ingestion.ExportAsync(signal, format, body.AsMemory(0, length), context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }

        switch (outcome.Kind)
        {
            case OtlpOutcomeKind.Accepted:
                context.Response.StatusCode = StatusCodes.Status200OK;
                await WriteAsync(context, format, OtlpMessages.ExportResponse(signal, format, outcome.RejectedItems, outcome.Message)).ConfigureAwait(false);
                return;
            case OtlpOutcomeKind.Malformed:
                await FailAsync(context, format, StatusCodes.Status400BadRequest, OtlpMessages.InvalidArgument, outcome.Message!).ConfigureAwait(false);
                return;
            case OtlpOutcomeKind.TooLarge:
                await FailAsync(context, format, StatusCodes.Status413PayloadTooLarge, OtlpMessages.InvalidArgument, outcome.Message!).ConfigureAwait(false);
                return;
            default:
                await FailAsync(context, format, StatusCodes.Status503ServiceUnavailable, OtlpMessages.Unavailable, outcome.Message!).ConfigureAwait(false);
                return;
        }
    }

    /// <summary>The encoding a Content-Type names (parameters such as charset allowed), or null for any other.</summary>
    internal static OtlpEncoding? EncodingOf(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? mediaType))
        {
            return null;
        }

        if (mediaType.MediaType.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return OtlpEncoding.Protobuf;
        }

        return mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ? OtlpEncoding.Json : null;
    }

    /// <summary>
    /// A refusal decided here, before the body is read, logged as <c>/v1/data/collector</c> logs its own; 503s are logged
    /// once per episode by <see cref="OtlpIngestion.NoRoomRefusal"/>.
    /// </summary>
    private Task RefuseAsync(HttpContext context, OtlpEncoding encoding, int statusCode, int rpcCode, string message)
    {
        if (statusCode != StatusCodes.Status503ServiceUnavailable)
        {
            logger.RequestRefused(statusCode, message);
        }

        return FailAsync(context, encoding, statusCode, rpcCode, message);
    }

    /// <summary>A refusal: the status, a <c>google.rpc.Status</c> body, and Retry-After when it is worth retrying.</summary>
    private static async Task FailAsync(HttpContext context, OtlpEncoding encoding, int statusCode, int rpcCode, string message)
    {
        TimeSpan? retryDelay = null;
        if (statusCode == StatusCodes.Status503ServiceUnavailable)
        {
            retryDelay = OtlpIngestion.RetryDelay;
            context.Response.Headers.RetryAfter = ((int)OtlpIngestion.RetryDelay.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.StatusCode = statusCode;
        await WriteAsync(context, encoding, OtlpMessages.Status(encoding, rpcCode, message, retryDelay)).ConfigureAwait(false);
    }

    private static Task WriteAsync(HttpContext context, OtlpEncoding encoding, byte[] message)
    {
        context.Response.ContentType = OtlpMessages.ContentType(encoding);
        context.Response.ContentLength = message.Length;
        return context.Response.Body.WriteAsync(message, 0, message.Length, context.RequestAborted);
    }
}
