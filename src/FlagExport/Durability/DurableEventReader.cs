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
/// <para>Positions the log still holds in memory (<see cref="SegmentLog.Recent"/>: a reader that has caught up with the
/// writer) are taken from there: the very objects appended, shared with every other reader, none decoded. The log is
/// read for the rest (backlog, recovery, what memory dropped). Both give the same events, so a range is cut at the same
/// place either way (the byte budget depends only on the events' fields, which the codec keeps exactly).</para>
/// <para>Used by one pipeline worker, or by <see cref="DurableBufferBacklog"/>; not thread-safe.</para>
/// </remarks>
internal sealed class DurableEventReader : IDisposable
{
    private readonly SegmentLog _log;
    private readonly byte? _tag;
    private readonly ILogger? _logger;
    private readonly string _exporterName;
    private readonly RecentRecords.Registration _registration;
    private readonly object?[] _chunk = new object?[ChunkSize];
    private SegmentLogReader _reader;
    private long _decoded;
    private long _fromMemory;

    // The latest metadata record read: its payload (copied, since the reader's span is reused), where it is, and its
    // object once an event needed it.
    private byte[] _metadataPayload = [];
    private int _metadataLength;
    private long _metadataSegment = -1;
    private FlagObject? _metadata;

    // An event read past the byte budget of the last range: the first of the next one.
    private ExportableEvent? _held;
    private long _heldPosition = -1;

    // Entries copied out of memory at once: short enough that an appender waiting for the lock barely notices.
    private const int ChunkSize = 256;

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
        _registration = log.Recent.Register(position);
    }

    /// <summary>Event records decoded from the log so far.</summary>
    internal long RecordsDecoded => _decoded;

    /// <summary>Events taken from memory so far.</summary>
    internal long EventsFromMemory => _fromMemory;

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

        var range = new Range(maxBytes, sizeOf, into, bytes);
        while (first < end && range.Stop < 0)
        {
            int copied = _log.Recent.Copy(first, end, _chunk);
            first = copied > 0 ? TakeFromMemory(first, copied, ref range) : ReadLog(first, Math.Min(end, Math.Max(_log.Recent.Start, first + 1)), ref range);
        }

        long stop = range.Stop < 0 ? end : range.Stop;
        _registration.MovedTo(stop);
        return stop;
    }

    /// <summary>Takes the events of the <paramref name="count"/> entries copied into <see cref="_chunk"/> from <paramref name="first"/> on.</summary>
    /// <returns>The position after the last entry taken.</returns>
    private long TakeFromMemory(long first, int count, ref Range range)
    {
        try
        {
            for (int i = 0; i < count; i++)
            {
                // Metadata records (their objects are already held by the events that share them), idempotency records and discarded positions.
                if (_chunk[i] is not ExportableEvent e || (_tag is { } only && EventRecordCodec.TagOf(e) != only))
                {
                    continue;
                }

                _fromMemory++;
                if (!range.TryAdd(e, first + i, this))
                {
                    return range.Stop;
                }
            }

            return first + count;
        }
        finally
        {
            Array.Clear(_chunk, 0, count); // the chunk must not keep events alive once memory drops them
        }
    }

    /// <summary>Reads the log at positions <c>[first, stop)</c> (all of them durable).</summary>
    /// <returns><paramref name="stop"/>, or the position of the event that did not fit.</returns>
    private long ReadLog(long first, long stop, ref Range range)
    {
        if (_reader.NextPosition != first)
        {
            // After a failed batch was dropped from memory (dead letter), on recovery, or where memory dropped records.
            _reader.Dispose();
            _reader = OpenAt(first);
        }

        while (_reader.NextPosition < stop && _reader.TryRead(out long position, out byte tag, out ReadOnlySpan<byte> payload))
        {
            if (tag == EventRecordCodec.MetadataTag)
            {
                KeepMetadata(payload);
                continue;
            }

            if (tag == IdempotencyRecordCodec.Tag)
            {
                continue; // a request's key, not an event
            }

            if (position < first || (_tag is { } only && tag != only))
            {
                continue; // read only to find the metadata records before the range, or the other type's
            }

            if (position >= stop)
            {
                // A gap (quarantined segment) jumped past the part asked for: this record belongs to what follows.
                _reader.Dispose();
                _reader = OpenAt(stop);
                return stop;
            }

            ExportableEvent e;
            try
            {
                _decoded++;
                e = EventRecordCodec.Read(tag, payload, SharedMetadata());
            }
            catch (InvalidDataException exception) when (_logger is not null)
            {
                // The checksum matched, so the bytes are what was written: a codec bug, not disk damage. Skip it, loudly.
                _logger.UndecodableRecord(exception, _exporterName, position);
                continue;
            }

            if (!range.TryAdd(e, position, this))
            {
                return position;
            }
        }

        return stop;
    }

    public void Dispose()
    {
        _registration.Dispose();
        _reader.Dispose();
    }

    /// <summary>The range being read: its budget, what it took, and where it stopped (-1 while it goes on).</summary>
    private struct Range(long maxBytes, Func<ExportableEvent, long> sizeOf, List<ExportableEvent> into, long bytes)
    {
        public long Stop = -1;

        /// <summary>Adds <paramref name="e"/>, or holds it for the next range and stops this one when it does not fit.</summary>
        public bool TryAdd(ExportableEvent e, long position, DurableEventReader reader)
        {
            long size = sizeOf(e);
            if (into.Count > 0 && bytes + size > maxBytes)
            {
                (reader._held, reader._heldPosition) = (e, position);
                Stop = position;
                return false;
            }

            into.Add(e);
            bytes += size;
            return true;
        }
    }

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
