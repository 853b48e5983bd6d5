using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// The messages the collector answers OTLP requests with, in the request's encoding: <c>ExportLogsServiceResponse</c> /
/// <c>ExportTraceServiceResponse</c> on success, and <c>google.rpc.Status</c> on failure (an HTTP error body, and gRPC's
/// <c>grpc-status-details-bin</c> trailer).
/// </summary>
/// <remarks>Field numbers from the OTLP specification and google/rpc (status, error_details); answers are not hot.</remarks>
internal static class OtlpMessages
{
    /// <summary>The gRPC (and google.rpc) status code of an answer that asks to be retried.</summary>
    public const int Unavailable = 14;

    /// <summary>The gRPC status code of a request that can never succeed as sent.</summary>
    public const int InvalidArgument = 3;

    /// <summary>The gRPC status code of a request without valid credentials.</summary>
    public const int Unauthenticated = 16;

    /// <summary>The content type of <paramref name="encoding"/>.</summary>
    public static string ContentType(OtlpEncoding encoding) =>
        encoding == OtlpEncoding.Protobuf ? "application/x-protobuf" : "application/json";

    /// <summary>
    /// The export response: empty on a full success; with <c>partial_success</c> (rejected_log_records or rejected_spans
    /// = 1, error_message = 2) when <paramref name="rejected"/> items were refused or there is a message.
    /// </summary>
    public static byte[] ExportResponse(OtlpSignal signal, OtlpEncoding encoding, long rejected, string? message)
    {
        bool partial = rejected > 0 || !string.IsNullOrEmpty(message);
        if (encoding == OtlpEncoding.Json)
        {
            return Json(writer =>
            {
                writer.WriteStartObject();
                if (partial)
                {
                    writer.WriteStartObject("partialSuccess");
                    // proto3's JSON mapping writes int64 as a string.
                    writer.WriteString(signal == OtlpSignal.Logs ? "rejectedLogRecords" : "rejectedSpans", rejected.ToString(CultureInfo.InvariantCulture));
                    if (!string.IsNullOrEmpty(message))
                    {
                        writer.WriteString("errorMessage", message);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            });
        }

        if (!partial)
        {
            return [];
        }

        byte[] partialSuccess = Protobuf(output =>
        {
            if (rejected != 0)
            {
                output.WriteTag(1, WireFormat.WireType.Varint);
                output.WriteInt64(rejected);
            }

            if (!string.IsNullOrEmpty(message))
            {
                output.WriteTag(2, WireFormat.WireType.LengthDelimited);
                output.WriteString(message);
            }
        });
        return Protobuf(output => Nested(output, 1, partialSuccess));
    }

    /// <summary>
    /// <c>google.rpc.Status</c> (code = 1, message = 2, details = 3 as <c>google.protobuf.Any</c>), with a
    /// <c>google.rpc.RetryInfo</c> detail (retry_delay = 1, a Duration) when <paramref name="retryDelay"/> is given, which
    /// OTLP exporters honour before they retry.
    /// </summary>
    public static byte[] Status(OtlpEncoding encoding, int code, string message, TimeSpan? retryDelay)
    {
        const string RetryInfoType = "type.googleapis.com/google.rpc.RetryInfo";
        long seconds = retryDelay is { } delay ? (long)delay.TotalSeconds : 0;
        if (encoding == OtlpEncoding.Json)
        {
            return Json(writer =>
            {
                writer.WriteStartObject();
                writer.WriteNumber("code", code);
                writer.WriteString("message", message);
                if (retryDelay is not null)
                {
                    writer.WriteStartArray("details");
                    writer.WriteStartObject();
                    writer.WriteString("@type", RetryInfoType);
                    writer.WriteString("retryDelay", seconds.ToString(CultureInfo.InvariantCulture) + "s");
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            });
        }

        return Protobuf(output =>
        {
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteInt32(code);
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteString(message);
            if (retryDelay is not null)
            {
                // Duration: seconds = 1; RetryInfo: retry_delay = 1; Any: type_url = 1, value = 2.
                byte[] duration = Protobuf(o =>
                {
                    o.WriteTag(1, WireFormat.WireType.Varint);
                    o.WriteInt64(seconds);
                });
                byte[] retryInfo = Protobuf(o => Nested(o, 1, duration));
                byte[] any = Protobuf(o =>
                {
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    o.WriteString(RetryInfoType);
                    Nested(o, 2, retryInfo);
                });
                Nested(output, 3, any);
            }
        });
    }

    private static void Nested(CodedOutputStream output, int field, byte[] message)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(message));
    }

    private static byte[] Protobuf(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return buffer.ToArray();
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
