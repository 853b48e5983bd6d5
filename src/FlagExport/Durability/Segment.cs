namespace FlagExport.Durability;

/// <summary>
/// One segment file of a <see cref="SegmentLog"/> as readers see it: how much of it is durable and whether it is closed.
/// </summary>
/// <remarks>
/// Only the flusher changes a segment, and only forward. It writes <see cref="DurableLength"/> before <see cref="IsSealed"/>,
/// so a reader that sees the segment sealed and then reads the length gets the final length.
/// </remarks>
internal sealed class Segment
{
    private long _durableLength;
    private long _durableEndPosition;
    private volatile bool _sealed;
    private long _pendingLength = -1;   // flusher only: the final length once the group that filled it is durable
    private long _pendingEndPosition;

    public Segment(string path, long firstPosition, long durableLength, long durableEndPosition, bool isSealed)
    {
        Path = path;
        FirstPosition = firstPosition;
        _durableLength = durableLength;
        _durableEndPosition = durableEndPosition;
        _sealed = isSealed;
    }

    /// <summary>The segment file.</summary>
    public string Path { get; }

    /// <summary>Position of the segment's first record.</summary>
    public long FirstPosition { get; }

    /// <summary>Bytes of the file (header included) that are written and fsynced; always a record boundary.</summary>
    public long DurableLength => Volatile.Read(ref _durableLength);

    /// <summary>Position after the segment's last durable record.</summary>
    public long DurableEndPosition => Volatile.Read(ref _durableEndPosition);

    /// <summary>True once no record will be added: <see cref="DurableLength"/> is final.</summary>
    public bool IsSealed => _sealed;

    /// <summary>Publishes bytes and records that the flusher has fsynced.</summary>
    public void Publish(long durableLength, long durableEndPosition)
    {
        Volatile.Write(ref _durableEndPosition, durableEndPosition);
        Volatile.Write(ref _durableLength, durableLength);
    }

    /// <summary>Notes the final length and end of a segment its group has filled; published by <see cref="PublishPendingEnd"/>.</summary>
    public void PendingEnd(long durableLength, long durableEndPosition) => (_pendingLength, _pendingEndPosition) = (durableLength, durableEndPosition);

    /// <summary>Publishes what <see cref="PendingEnd"/> noted, once the whole group is fsynced.</summary>
    public void PublishPendingEnd()
    {
        if (_pendingLength >= 0)
        {
            Publish(_pendingLength, _pendingEndPosition);
        }
    }

    /// <summary>Marks the segment complete; call after the last <see cref="Publish"/>.</summary>
    public void Seal() => _sealed = true;
}
