namespace FlagExport.Durability;

/// <summary>
/// Reads the durable records of a <see cref="SegmentLog"/> in position order, jumping over gaps left by quarantined
/// segments. Not thread-safe: one consumer per reader.
/// </summary>
internal sealed class SegmentLogReader : IDisposable
{
    private readonly SegmentLog _log;
    private readonly long _startPosition; // records below it are skipped
    private Segment? _segment;            // the segment being read, or the last one finished when _cursor is null
    private RecordCursor? _cursor;
    private long _next;                   // position of the record at the cursor

    internal SegmentLogReader(SegmentLog log, long position)
    {
        _log = log;
        _startPosition = position;
        _next = position;
    }

    /// <summary>Position of the next record to be read (or of where reading resumes after a gap).</summary>
    public long NextPosition => Math.Max(_next, _startPosition);

    /// <summary>The first position of the segment of the record last read (-1 before the first): a record refers only within its segment.</summary>
    public long SegmentFirstPosition => _segment?.FirstPosition ?? -1;

    /// <summary>
    /// The next durable record, or false when none is durable yet. <paramref name="payload"/> is valid until the next call.
    /// Throws <see cref="InvalidDataException"/> when a record written since start-up no longer matches its checksum.
    /// </summary>
    public bool TryRead(out long position, out byte tag, out ReadOnlySpan<byte> payload)
    {
        while (true)
        {
            if (_cursor is null && !TryEnterNextSegment())
            {
                position = -1;
                tag = 0;
                payload = default;
                return false;
            }

            // Sealed is read before the length: a sealed segment's length is final (see Segment).
            Segment segment = _segment!;
            bool isSealed = segment.IsSealed;
            RecordStatus status = _cursor!.TryRead(segment.DurableLength, out tag, out payload);
            if (status == RecordStatus.Record)
            {
                position = _next++;
                if (position >= _startPosition)
                {
                    return true;
                }

                continue;
            }

            if (status == RecordStatus.End && isSealed)
            {
                _cursor.Dispose();
                _cursor = null;
                continue;
            }

            if (status == RecordStatus.End)
            {
                position = -1;
                return false;
            }

            throw new InvalidDataException($"Segment '{segment.Path}' has a {status.ToString().ToLowerInvariant()} record at offset {_cursor.Offset} below its durable length; it was damaged after it was written.");
        }
    }

    public void Dispose()
    {
        _cursor?.Dispose();
        _cursor = null;
    }

    private bool TryEnterNextSegment()
    {
        while (true)
        {
            Segment? next = _segment is null ? _log.FindSegment(_startPosition) : _log.NextSegment(_segment);
            if (next is null)
            {
                return false;
            }

            _segment = next;
            _next = next.FirstPosition;
            try
            {
                _cursor = new RecordCursor(
                    File.OpenHandle(next.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete),
                    SegmentFormat.HeaderSize, SegmentLog.ReaderBufferSize);
                return true;
            }
            catch (FileNotFoundException)
            {
                // Released since it was looked up: its records are below every consumer's position; go on to the next.
            }
        }
    }
}
