using System.Text;
using FlagExport.Json;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Turns the log records and span events an OTLP reader walks through into feature events, by the library's mapping
/// (<see cref="FeatureFlagEvaluationFields"/>), and keeps the request's counts in <see cref="Export"/>.
/// </summary>
/// <remarks>
/// A reader calls <see cref="Resource"/> for each resource, then per record <see cref="BeginRecord"/>,
/// <see cref="Attribute"/> for each of its attributes, and <see cref="EndRecord"/>. One builder per request; not
/// thread-safe. Strings are read through the collector's shared <see cref="Utf8StringCache"/>, so the attribute names and
/// flag keys that recur across requests are not allocated again.
/// </remarks>
internal sealed class OtlpEventBuilder(Utf8StringCache strings, TimeProvider time)
{
    private readonly FeatureFlagEvaluationFields _fields = new();
    private string? _serviceName;
    private int _serviceNameBytes;
    private long _receivedAt = -1;

    private string?[]? _names;
    private List<FlagValue>? _items;
    private List<KeyValuePair<string, FlagValue>>? _properties;

    /// <summary>
    /// Where a reader collects the items of array values before copying them into the value once, so that reading a
    /// value allocates the value only; nested levels share it, each past what the level above holds.
    /// </summary>
    public List<FlagValue> ItemScratch => _items ??= [];

    /// <summary>The same for the properties of key-value list values.</summary>
    public List<KeyValuePair<string, FlagValue>> PropertyScratch => _properties ??= [];

    /// <summary>What has been read so far.</summary>
    public OtlpExport Export { get; } = new();

    /// <summary>A string read from UTF-8; invalid sequences become U+FFFD, as protobuf and JSON decoders do.</summary>
    public string String(ReadOnlySpan<byte> utf8) =>
        utf8.Length <= Utf8StringCache.MaxLength ? strings.GetString(utf8) : Encoding.UTF8.GetString(utf8);

    /// <summary>
    /// The name of a record's attribute at <paramref name="position"/>: records from one SDK name their attributes in
    /// the same order, so it is mostly the name read at that position in the record before, which its bytes are checked
    /// against (no hash); else read as <see cref="String"/> reads it.
    /// </summary>
    public string AttributeName(ReadOnlySpan<byte> utf8, int position)
    {
        string?[] names = _names ??= new string?[16];
        if ((uint)position >= (uint)names.Length)
        {
            return String(utf8);
        }

        string? previous = names[position];
        return previous is not null && previous.Length == utf8.Length && Ascii.Equals(utf8, previous)
            ? previous
            : names[position] = String(utf8);
    }

    /// <summary>
    /// A string seldom seen twice, such as a context id: decoded without the cache, as <c>/v1/data/collector</c> decodes
    /// user keys, so that a stream of distinct ids does not evict the names and keys that recur from its slots.
    /// </summary>
    public static string UniqueString(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    /// <summary>Starts the records of a resource, whose <c>service.name</c> (null when it has none) each event carries.</summary>
    public void Resource(string? serviceName)
    {
        _serviceName = string.IsNullOrEmpty(serviceName) ? null : serviceName;
        _serviceNameBytes = _serviceName is null ? 0 : Encoding.UTF8.GetByteCount(_serviceName);
    }

    /// <summary>Starts a record (a log record or a span event) whose attributes follow.</summary>
    public void BeginRecord() => _fields.Clear();

    /// <summary>One attribute of the current record.</summary>
    /// <remarks>
    /// <c>event.name</c> is not kept: on a record it is the older SDKs' way of naming the event, the same on every
    /// evaluation, and keeping it would make one evaluation's metadata differ by the SDK's version.
    /// </remarks>
    public void Attribute(string name, FlagValue value)
    {
        if (!string.Equals(name, EventNameAttribute, StringComparison.Ordinal))
        {
            _fields.Add(name, value);
        }
    }

    /// <summary>The attribute that named a log record's event before LogRecord had its <c>event_name</c> field.</summary>
    internal const string EventNameAttribute = "event.name";

    /// <summary>Ends the current record: kept as an event, rejected, or ignored when it is not a flag evaluation.</summary>
    /// <param name="timeUnixNano">When the evaluation happened (0: unknown).</param>
    /// <param name="observedUnixNano">When it was observed (0: unknown); used when the time is unknown.</param>
    /// <param name="isFlagEvaluation">Whether the record is named as a flag evaluation.</param>
    /// <param name="recordBytes">The record's encoded size, for <see cref="OtlpExport.ExpandedBytes"/>.</param>
    public OtlpRecordOutcome EndRecord(long timeUnixNano, long observedUnixNano, bool isFlagEvaluation, long recordBytes)
    {
        if (!isFlagEvaluation)
        {
            Export.Ignored++;
            return OtlpRecordOutcome.Ignored;
        }

        long nanos = timeUnixNano != 0 ? timeUnixNano : observedUnixNano;
        long seconds = nanos != 0 ? nanos / 1_000_000_000 : ReceivedAt();
        if (_fields.ToFeatureEvent(seconds, _serviceName) is not { } featureEvent)
        {
            Export.Rejected++;
            return OtlpRecordOutcome.Rejected;
        }

        Export.Events.Add(featureEvent);
        Export.ExpandedBytes += recordBytes + _serviceNameBytes;
        return OtlpRecordOutcome.Kept;
    }

    /// <summary>The request's time of arrival, read once, for records that carry no time.</summary>
    private long ReceivedAt() => _receivedAt >= 0 ? _receivedAt : _receivedAt = time.GetUtcNow().ToUnixTimeSeconds();
}
