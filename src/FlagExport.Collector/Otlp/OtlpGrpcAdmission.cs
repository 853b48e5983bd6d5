using System.Text;
using FlagExport.Collector.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Admits an OTLP/gRPC call before gRPC reads its message, as <c>/v1/data/collector</c> admits a request before its
/// body: a missing or wrong API key gets UNAUTHENTICATED, and, when no exporter has room, UNAVAILABLE with a retry delay,
/// so that under overload a refusal costs neither reading nor decompressing the message.
/// </summary>
/// <remarks>
/// A refused call is answered "trailers-only" (HTTP 200, the gRPC status in the response headers, no message), which is
/// what gRPC servers send for an error before any message. Refusals for lack of room are logged once per episode, by
/// <see cref="OtlpIngestion.NoRoomRefusal"/>.
/// </remarks>
internal sealed class OtlpGrpcAdmission(ApiKeyValidator apiKeys, OtlpIngestion ingestion, ILogger<OtlpGrpcAdmission> logger)
{
    private const string Unauthenticated = "A valid API key is required: send it as the 'authorization: Bearer <key>' or 'x-api-key: <key>' metadata.";

    /// <summary>Runs <paramref name="call"/> (gRPC's handling of the method) if the call is admitted.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate call)
    {
        if (!apiKeys.IsAuthorized(context.Request))
        {
            logger.OtlpGrpcRefused(nameof(StatusCode.Unauthenticated), Unauthenticated);
            return RefuseAsync(context, StatusCode.Unauthenticated, Unauthenticated, details: null);
        }

        if (ingestion.NoRoomRefusal() is { } noRoom)
        {
            return RefuseAsync(context, StatusCode.Unavailable, noRoom, OtlpGrpcStatus.UnavailableDetails(noRoom));
        }

        return call(context);
    }

    private static Task RefuseAsync(HttpContext context, StatusCode status, string message, byte[]? details)
    {
        HttpResponse response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = PercentEncoded(message);
        if (details is not null)
        {
            response.Headers[OtlpGrpcStatus.DetailsTrailer] = Convert.ToBase64String(details);
        }

        return Task.CompletedTask;
    }

    /// <summary>grpc-message as the gRPC protocol writes it: UTF-8, with '%' and bytes outside printable ASCII as %XX.</summary>
    private static string PercentEncoded(string message)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(message);
        var text = new StringBuilder(utf8.Length);
        foreach (byte b in utf8)
        {
            _ = b is >= 0x20 and <= 0x7E and not (byte)'%'
                ? text.Append((char)b)
                : text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
