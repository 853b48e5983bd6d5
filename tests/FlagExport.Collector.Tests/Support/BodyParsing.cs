using System.Globalization;
using System.Text;
using FlagExport.Collector.Ingestion;
using FlagExport.Json;
using Microsoft.AspNetCore.Http;

namespace FlagExport.Collector.Tests.Support;

/// <summary>Runs the collector's body reader and parser on a body, delivered whole or in pieces of random sizes.</summary>
internal static class BodyParsing
{
    public static CollectBody Parse(string body, Random? pieces = null, long limit = 1L << 30) =>
        Parse(Encoding.UTF8.GetBytes(body), pieces, limit);

    public static CollectBody Parse(byte[] body, Random? pieces = null, long limit = 1L << 30)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new PiecewiseStream(body, pieces);
        return CollectBodyReader.ReadAsync(context.Request, limit, new CollectRequestParser(new Utf8StringCache()), hash: null, CancellationToken.None)
            .GetAwaiter().GetResult();
    }

    /// <summary>The one event of <c>{"events": [<paramref name="eventJson"/>]}</c>, or its rejection.</summary>
    public static (ExportableEvent? Event, string? Rejection) ParseEvent(string eventJson, string? meta = null)
    {
        CollectBody body = Parse(meta is null ? $$"""{"events":[{{eventJson}}]}""" : $$"""{"meta":{{meta}},"events":[{{eventJson}}]}""");
        Assert.True(body.Request is not null, body.Error);
        return body.Request.Events.Count == 1 ? (body.Request.Events[0], null) : (null, body.Request.Rejected.Single().Reason);
    }

    /// <summary>Every field of an event, values with their kinds, in one line: for comparing two decoders.</summary>
    public static string Describe(ExportableEvent item)
    {
        var text = new StringBuilder();
        _ = text.Append(CultureInfo.InvariantCulture, $"{item.GetType().Name} kind={item.Kind} ck={item.ContextKind} user={item.UserKey} date={item.CreationDate} key={item.Key}");
        switch (item)
        {
            case FeatureEvent f:
                _ = text.Append(CultureInfo.InvariantCulture, $" var={f.Variation} default={f.Default} version={f.Version} source={f.Source} value=");
                Append(text, f.Value);
                _ = text.Append(" metadata=");
                AppendObject(text, f.Metadata);
                break;
            case TrackingEvent t:
                _ = text.Append(" context=");
                AppendObject(text, t.EvaluationContext);
                _ = text.Append(" details=");
                AppendObject(text, t.TrackingEventDetails);
                break;
        }

        return text.ToString();
    }

    private static void AppendObject(StringBuilder text, IReadOnlyDictionary<string, FlagValue>? properties)
    {
        if (properties is null)
        {
            _ = text.Append("none");
            return;
        }

        _ = text.Append('{');
        foreach (KeyValuePair<string, FlagValue> property in properties)
        {
            _ = text.Append('[').Append(property.Key).Append("]=");
            Append(text, property.Value);
            _ = text.Append(';');
        }

        _ = text.Append('}');
    }

    private static void Append(StringBuilder text, FlagValue value)
    {
        switch (value.Kind)
        {
            case FlagValueKind.Array:
                _ = text.Append('[');
                foreach (FlagValue item in value.AsArray())
                {
                    Append(text, item);
                    _ = text.Append(',');
                }

                _ = text.Append(']');
                break;
            case FlagValueKind.Object:
                AppendObject(text, value.AsObject());
                break;
            default:
                _ = text.Append(value.Kind).Append(':').Append(value.ToString());
                break;
        }
    }

    /// <summary>A body stream that hands out its bytes in pieces of random sizes (1 to 300 bytes), or whole.</summary>
    private sealed class PiecewiseStream(byte[] data, Random? pieces) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int size = Math.Min(Math.Min(buffer.Length, data.Length - _position), pieces is null ? int.MaxValue : pieces.Next(1, 300));
            data.AsSpan(_position, size).CopyTo(buffer);
            _position += size;
            return size;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
