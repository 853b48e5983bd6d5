using System.Text;

namespace FlagExport.Collector.Tests.Otlp;

/// <summary>
/// OTLP messages as an exporter sends them, written from the OTLP specification's field numbers: export requests of
/// logs and traces, and readers of the answers (partial_success, google.rpc.Status with RetryInfo).
/// </summary>
public static class OtlpBodies
{
    /// <summary>An attribute (KeyValue) with a string value.</summary>
    public static ProtoMessage Attribute(string key, string value) => KeyValue(key, new ProtoMessage().Text(1, value));

    /// <summary>An attribute (KeyValue) with a bool value.</summary>
    public static ProtoMessage Attribute(string key, bool value) => KeyValue(key, new ProtoMessage().Bool(2, value));

    /// <summary>An attribute (KeyValue) with an int value.</summary>
    public static ProtoMessage Attribute(string key, long value) => KeyValue(key, new ProtoMessage().Varint(3, value));

    /// <summary>A LogRecord: time_unix_nano (1), attributes (6), event_name (12) when given.</summary>
    public static ProtoMessage LogRecord(ulong timeUnixNano, string? eventName, params ProtoMessage[] attributes)
    {
        var record = new ProtoMessage().Fixed64(1, timeUnixNano);
        foreach (ProtoMessage attribute in attributes)
        {
            _ = record.Message(6, attribute);
        }

        return eventName is null ? record : record.Text(12, eventName);
    }

    /// <summary>ExportLogsServiceRequest: one ResourceLogs (resource with service.name) with one ScopeLogs of the records.</summary>
    public static byte[] Logs(string serviceName, params ProtoMessage[] records)
    {
        var scope = new ProtoMessage().Message(1, new ProtoMessage().Text(1, "test-scope"));
        foreach (ProtoMessage record in records)
        {
            _ = scope.Message(2, record);
        }

        var resourceLogs = new ProtoMessage().Message(1, Resource(serviceName)).Message(2, scope);
        return new ProtoMessage().Message(1, resourceLogs).ToArray();
    }

    /// <summary>A Span.Event: time_unix_nano (1), name (2), attributes (3).</summary>
    public static ProtoMessage SpanEvent(ulong timeUnixNano, string name, params ProtoMessage[] attributes)
    {
        var spanEvent = new ProtoMessage().Fixed64(1, timeUnixNano).Text(2, name);
        foreach (ProtoMessage attribute in attributes)
        {
            _ = spanEvent.Message(3, attribute);
        }

        return spanEvent;
    }

    /// <summary>ExportTraceServiceRequest: one span (ids, name, times) carrying the events.</summary>
    public static byte[] Traces(string serviceName, params ProtoMessage[] events)
    {
        var span = new ProtoMessage()
            .Bytes(1, Enumerable.Range(1, 16).Select(i => (byte)i).ToArray())
            .Bytes(2, Enumerable.Range(1, 8).Select(i => (byte)i).ToArray())
            .Text(5, "GET /checkout")
            .Fixed64(7, 1_733_230_547_000_000_000)
            .Fixed64(8, 1_733_230_548_000_000_000);
        foreach (ProtoMessage spanEvent in events)
        {
            _ = span.Message(11, spanEvent);
        }

        var scope = new ProtoMessage().Message(1, new ProtoMessage().Text(1, "test-scope")).Message(2, span);
        var resourceSpans = new ProtoMessage().Message(1, Resource(serviceName)).Message(2, scope);
        return new ProtoMessage().Message(1, resourceSpans).ToArray();
    }

    /// <summary>The partial_success of an export response (rejected count, error message); null when the response is empty.</summary>
    public static (long Rejected, string Message)? PartialSuccess(byte[] response)
    {
        List<(int Field, object Value)> fields = ProtoMessage.Read(response);
        if (fields.Count == 0)
        {
            return null;
        }

        List<(int Field, object Value)> partial = ProtoMessage.Read((byte[])fields.Single(f => f.Field == 1).Value);
        long rejected = partial.Where(f => f.Field == 1).Select(f => (long)(ulong)f.Value).SingleOrDefault();
        string message = partial.Where(f => f.Field == 2).Select(f => Encoding.UTF8.GetString((byte[])f.Value)).SingleOrDefault() ?? "";
        return (rejected, message);
    }

    /// <summary>A google.rpc.Status: its code, message, and the RetryInfo detail's delay in seconds (null without one).</summary>
    public static (int Code, string Message, long? RetryDelaySeconds) Status(byte[] status)
    {
        List<(int Field, object Value)> fields = ProtoMessage.Read(status);
        int code = fields.Where(f => f.Field == 1).Select(f => (int)(ulong)f.Value).SingleOrDefault();
        string message = fields.Where(f => f.Field == 2).Select(f => Encoding.UTF8.GetString((byte[])f.Value)).SingleOrDefault() ?? "";
        long? delay = null;
        foreach ((int _, object value) in fields.Where(f => f.Field == 3))
        {
            List<(int Field, object Value)> any = ProtoMessage.Read((byte[])value);
            string typeUrl = Encoding.UTF8.GetString((byte[])any.Single(f => f.Field == 1).Value);
            if (typeUrl == "type.googleapis.com/google.rpc.RetryInfo")
            {
                byte[] retryInfo = (byte[])any.Single(f => f.Field == 2).Value;
                byte[] duration = (byte[])ProtoMessage.Read(retryInfo).Single(f => f.Field == 1).Value;
                delay = ProtoMessage.Read(duration).Where(f => f.Field == 1).Select(f => (long)(ulong)f.Value).SingleOrDefault();
            }
        }

        return (code, message, delay);
    }

    private static ProtoMessage KeyValue(string key, ProtoMessage anyValue) => new ProtoMessage().Text(1, key).Message(2, anyValue);

    private static ProtoMessage Resource(string serviceName) => new ProtoMessage().Message(1, Attribute("service.name", serviceName));
}
