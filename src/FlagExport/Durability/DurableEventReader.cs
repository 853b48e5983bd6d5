using Microsoft.Extensions.Logging;

namespace FlagExport.Durability;

/// <summary>
/// Reads one pipeline's events back from the durable buffer, range by range, in position order: the events of its
/// <see cref="EventType"/>, decoded; the other type's records are passed over.
/// </summary>
/// <remarks>Used by one pipeline worker; not thread-safe.</remarks>
internal sealed class DurableEventReader : IDisposable
{
    private readonly SegmentLog _log;
    private readonly byte _tag;
    private readonly ILogger _logger;
    private readonly string _exporterName;
    private SegmentLogReader _reader;

    public DurableEventReader(SegmentLog log, long position, EventType eventType, string exporterName, ILogger logger)
    {
        _log = log;
        _tag = eventType == EventType.Tracking ? EventRecordCodec.TrackingTag : EventRecordCodec.FeatureTag;
        _exporterName = exporterName;
        _logger = logger;
        _reader = log.OpenReader(position);
    }

    /// <summary>
    /// Adds the events of this pipeline's type at positions <c>[first, end)</c> to <paramref name="into"/>. Every position
    /// below <paramref name="end"/> must be durable; positions lost to a quarantined segment are simply absent.
    /// </summary>
    public void ReadRange(long first, long end, List<ExportableEvent> into)
    {
        if (_reader.NextPosition != first)
        {
            // Only after a failed batch was dropped from memory (dead letter) or on recovery: start over at the range.
            _reader.Dispose();
            _reader = _log.OpenReader(first);
        }

        while (_reader.NextPosition < end && _reader.TryRead(out long position, out byte tag, out ReadOnlySpan<byte> payload))
        {
            if (position >= end)
            {
                // A gap (quarantined segment) jumped past the range: this record belongs to the next range.
                _reader.Dispose();
                _reader = _log.OpenReader(end);
                return;
            }

            if (tag != _tag)
            {
                continue;
            }

            try
            {
                into.Add(EventRecordCodec.Read(tag, payload));
            }
            catch (InvalidDataException exception)
            {
                // The checksum matched, so the bytes are what was written: a codec bug, not disk damage. Skip it, loudly.
                _logger.UndecodableRecord(exception, _exporterName, position);
            }
        }
    }

    public void Dispose() => _reader.Dispose();
}
