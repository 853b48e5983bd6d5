using Microsoft.Extensions.Logging;

namespace FlagExport.Collector;

/// <content>The OTLP/gRPC receiver's messages (event ids 60 to 69).</content>
internal static partial class Log
{
    [LoggerMessage(EventId = 60, EventName = "OtlpGrpcListening", Level = LogLevel.Information,
        Message = "OTLP/gRPC listening on {Address}")]
    public static partial void OtlpGrpcListening(this ILogger logger, string address);

    [LoggerMessage(EventId = 61, EventName = "OtlpGrpcRefused", Level = LogLevel.Information,
        Message = "Refused an OTLP/gRPC call with {StatusCode}: {Reason}")]
    public static partial void OtlpGrpcRefused(this ILogger logger, string statusCode, string reason);
}
