using Google.Protobuf;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// The collector's protobuf answers to OTLP requests, read with Google.Protobuf's <see cref="CodedInputStream"/> from the
/// field numbers of the OTLP and google.rpc specifications, independently of the collector's writer. A field the
/// message does not define, or one with the wrong wire type, throws <see cref="InvalidDataException"/>: a test reading
/// an answer also checks that the answer carries nothing else.
/// </summary>
internal static class OtlpAnswers
{
    private const string RetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";

    /// <summary>
    /// The partial_success (1) of an ExportLogsServiceResponse or ExportTraceServiceResponse: its rejected count (1) and
    /// error_message (2); null for an empty response (a full success).
    /// </summary>
    public static (long Rejected, string Message)? PartialSuccess(byte[] response)
    {
        byte[]? partial = null;
        ReadFields(response, "Export response", (tag, input) =>
        {
            if (tag != WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited))
            {
                return false;
            }

            partial = input.ReadBytes().ToByteArray();
            return true;
        });
        if (partial is null)
        {
            return null;
        }

        long rejected = 0;
        string message = "";
        ReadFields(partial, "partial_success", (tag, input) =>
        {
            if (tag == WireFormat.MakeTag(1, WireFormat.WireType.Varint))
            {
                rejected = input.ReadInt64();
            }
            else if (tag == WireFormat.MakeTag(2, WireFormat.WireType.LengthDelimited))
            {
                message = input.ReadString();
            }
            else
            {
                return false;
            }

            return true;
        });
        return (rejected, message);
    }

    /// <summary>
    /// A google.rpc.Status: its code (1), message (2), and the delay in whole seconds of its RetryInfo detail (3, an Any
    /// whose value holds retry_delay, a Duration); null without a RetryInfo. Details of other types are skipped.
    /// </summary>
    public static (int Code, string Message, long? RetryDelaySeconds) Status(byte[] status)
    {
        int code = 0;
        string message = "";
        long? delay = null;
        ReadFields(status, "google.rpc.Status", (tag, input) =>
        {
            if (tag == WireFormat.MakeTag(1, WireFormat.WireType.Varint))
            {
                code = input.ReadInt32();
            }
            else if (tag == WireFormat.MakeTag(2, WireFormat.WireType.LengthDelimited))
            {
                message = input.ReadString();
            }
            else if (tag == WireFormat.MakeTag(3, WireFormat.WireType.LengthDelimited))
            {
                long? detailDelay = RetryDelay(input.ReadBytes().ToByteArray());
                if (detailDelay is not null)
                {
                    if (delay is not null)
                    {
                        throw new InvalidDataException("google.rpc.Status has more than one RetryInfo detail.");
                    }

                    delay = detailDelay;
                }
            }
            else
            {
                return false;
            }

            return true;
        });
        return (code, message, delay);
    }

    /// <summary>The retry delay of an Any (type_url 1, value 2) that is a RetryInfo; null for any other type.</summary>
    private static long? RetryDelay(byte[] any)
    {
        string typeUrl = "";
        byte[] value = [];
        ReadFields(any, "google.protobuf.Any", (tag, input) =>
        {
            if (tag == WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited))
            {
                typeUrl = input.ReadString();
            }
            else if (tag == WireFormat.MakeTag(2, WireFormat.WireType.LengthDelimited))
            {
                value = input.ReadBytes().ToByteArray();
            }
            else
            {
                return false;
            }

            return true;
        });
        if (typeUrl != RetryInfoTypeUrl)
        {
            return null;
        }

        byte[]? duration = null;
        ReadFields(value, "google.rpc.RetryInfo", (tag, input) =>
        {
            if (tag != WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited))
            {
                return false;
            }

            duration = input.ReadBytes().ToByteArray();
            return true;
        });
        if (duration is null)
        {
            throw new InvalidDataException("google.rpc.RetryInfo has no retry_delay.");
        }

        // Duration: seconds (1), nanos (2). The collector's delays are whole seconds; nanos would mean another delay.
        long seconds = 0;
        ReadFields(duration, "google.protobuf.Duration", (tag, input) =>
        {
            if (tag == WireFormat.MakeTag(1, WireFormat.WireType.Varint))
            {
                seconds = input.ReadInt64();
            }
            else if (tag == WireFormat.MakeTag(2, WireFormat.WireType.Varint))
            {
                throw new InvalidDataException($"retry_delay has {input.ReadInt32()} nanoseconds; expected whole seconds.");
            }
            else
            {
                return false;
            }

            return true;
        });
        return seconds;
    }

    /// <summary>Calls <paramref name="read"/> with each field's tag, positioned on its value; it reads the value, or returns false for a field <paramref name="type"/> does not define.</summary>
    private static void ReadFields(byte[] message, string type, Func<uint, CodedInputStream, bool> read)
    {
        var input = new CodedInputStream(message);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            if (!read(tag, input))
            {
                throw new InvalidDataException(
                    $"{type} has an unexpected field {WireFormat.GetTagFieldNumber(tag)} of wire type {WireFormat.GetTagWireType(tag)}.");
            }
        }
    }
}
