using Microsoft.Extensions.Logging;

namespace FlagExport.Durability;

/// <summary>
/// Reads one pipeline's events back from the durable buffer, range by range, in position order: the events of its
/// <see cref="EventType"/> (of both types when none is given), decoded; the other type's records are passed over.
/// </summary>
/// <remarks>
/// <para>Feature events that refer to shared metadata get the metadata record before them in their segment, decoded
/// once: every event of a group holds the same <see cref="FlagObject"/>, as it did when it was appended. To have that
/// record at hand wherever a range starts, a reader always starts at the first record of a segment.</para>
/// <para>Used by one pipeline worker, or by <see cref="DurableBufferBacklog"/>; not thread-safe.</para>
/// </remarks>
internal sealed class DurableEventReader : IDisposable
{
    private readonly SegmentLog _log;
    private readonly byte? _tag;
    private readonly ILogger? _logger;
    private readonly string _exporterName;
    private SegmentLogReader _reader;

    // The latest metadata record read: its payload (copied, since the reader's span is reused), where it is, and its
    // object once an event needed it.
    private byte[] _metadataPayload = [];
    private int _metadataLength;
    private long _metadataSegment = -1;
    private FlagObject? _metadata;

    // An event read past the byte budget of the last range: the first of the next one.
    private ExportableEvent? _held;
    private long _heldPosition = -1;

    /// <param name="log">The log to read.</param>
    /// <param name="position">Where the first range will start.</param>
    /// <param name="eventType">The type of events to read; null reads both.</param>
    /// <param name="exporterName">Names the reader in log lines.</param>
    /// <param name="logger">
    /// Where an undecodable record is reported before it is skipped; without one it is thrown instead
    /// (<see cref="InvalidDataException"/>), since skipping it with no one told would lose an event in silence.
    /// </param>
    public DurableEventReader(SegmentLog log, long position, EventType? eventType, string exporterName, ILogger? logger)
    {
        _log = log;
        _tag = eventType switch
        {
            EventType.Tracking => EventRecordCodec.TrackingTag,
            EventType.Feature => EventRecordCodec.FeatureTag,
            _ => null,
        };
        _exporterName = exporterName;
        _logger = logger;
        _reader = OpenAt(position);
    }

    /// <summary>Adds every event of this pipeline's type at positions <c>[first, end)</c> to <paramref name="into"/>.</summary>
    public void ReadRange(long first, long end, List<ExportableEvent> into) => _ = ReadRange(first, end, into, long.MaxValue, static _ => 0);

    /// <summary>
    /// Adds the events of this pipeline's type at positions <c>[first, end)</c> to <paramref name="into"/>, stopping
    /// before the event that would take the sum of <paramref name="sizeOf"/> past <paramref name="maxBytes"/> (the first
    /// event is always taken). Every position below <paramref name="end"/> must be durable; positions lost to a
    /// quarantined segment are simply absent.
    /// </summary>
    /// <returns>The end of the range read: <paramref name="end"/>, or the position of the event that did not fit.</returns>
    public long ReadRange(long first, long end, List<ExportableEvent> into, long maxBytes, Func<ExportableEvent, long> sizeOf)
    {
        long bytes = 0;
        if (_held is not null && _heldPosition == first && first < end)
        {
            // Read last time, past that range's budget: it opens this one.
            into.Add(_held);
            bytes = sizeOf(_held);
            _held = null;
            first++;
        }
        else
        {
            _held = null;
        }

        if (_reader.NextPosition != first)
        {
            // Only after a failed batch was dropped from memory (dead letter) or on recovery: start over at the range.
            _reader.Dispose();
            _reader = OpenAt(first);
        }

        while (_reader.NextPosition < end && _reader.TryRead(out long position, out byte tag, out ReadOnlySpan<byte> payload))
        {
            if (tag == EventRecordCodec.MetadataTag)
            {
                KeepMetadata(payload);
                continue;
            }

            if (position < first || (_tag is { } only && tag != only))
            {
                continue; // read only to find the metadata records before the range, or the other type's
            }

            if (position >= end)
            {
                // A gap (quarantined segment) jumped past the range: this record belongs to the next range.
                _reader.Dispose();
                _reader = OpenAt(end);
                return end;
            }

            ExportableEvent e;
            try
            {
                e = EventRecordCodec.Read(tag, payload, SharedMetadata());
            }
            catch (InvalidDataException exception) when (_logger is not null)
            {
                // The checksum matched, so the bytes are what was written: a codec bug, not disk damage. Skip it, loudly.
                _logger.UndecodableRecord(exception, _exporterName, position);
                continue;
            }

            long size = sizeOf(e);
            if (into.Count > 0 && bytes + size > maxBytes)
            {
                (_held, _heldPosition) = (e, position);
                return position;
            }

            into.Add(e);
            bytes += size;
        }

        return end;
    }

    public void Dispose() => _reader.Dispose();

    /// <summary>A reader at the first record of the segment holding <paramref name="position"/>, for the metadata records before it.</summary>
    private SegmentLogReader OpenAt(long position)
    {
        Segment? segment = _log.FindSegment(position);
        return _log.OpenReader(segment is null ? position : Math.Min(position, segment.FirstPosition));
    }

    private void KeepMetadata(ReadOnlySpan<byte> payload)
    {
        if (_tag == EventRecordCodec.TrackingTag)
        {
            return; // only feature events refer to shared metadata
        }

        if (_metadataPayload.Length < payload.Length)
        {
            _metadataPayload = new byte[Math.Max(payload.Length, _metadataPayload.Length * 2)];
        }

        payload.CopyTo(_metadataPayload);
        _metadataLength = payload.Length;
        _metadataSegment = _reader.SegmentFirstPosition;
        _metadata = null;
    }

    /// <summary>The metadata an event record of the current segment refers to, decoded once per record; null when there is none.</summary>
    private FlagObject? SharedMetadata()
    {
        if (_metadataSegment != _reader.SegmentFirstPosition || _metadataSegment < 0)
        {
            return null;
        }

        return _metadata ??= EventRecordCodec.ReadMetadata(_metadataPayload.AsSpan(0, _metadataLength));
    }
}
